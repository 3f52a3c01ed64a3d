/** An image reference's repository and tag (`latest` when it names none; a registry's port is not a tag). */
export function splitImageRef(ref: string): [repository: string, tag: string] {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
}
