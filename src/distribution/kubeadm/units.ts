/* systemd units and system settings baked into the kubeadm node image; the files live in ./files/. */
import { readPackageFile } from '../../package-files.js';

const file = (name: string): string => readPackageFile(`src/distribution/kubeadm/files/${name}`);

/** kubelet starts once kubeadm has written its configuration (kubeadm restarts it), and systemd never gives up on it. */
export const KUBELET_SERVICE = file('kubelet.service');

/** The settings of upstream's 10-kubeadm.conf drop-in: kubeadm writes the files these point at. */
export const KUBELET_KUBEADM_DROPIN = file('10-kubeadm.conf');

/** kube-proxy as a machine service rather than a DaemonSet: no image needed, same binary and config. */
export const KUBE_PROXY_SERVICE = file('kube-proxy.service');

/** Runs kiab-pod-network (see POD_NETWORK_SCRIPT) once per boot, before kubelet. */
export const POD_NETWORK_SERVICE = file('kiab-pod-network.service');

/** The sysctls kubelet, kube-proxy and the bridge CNI need. */
export const KUBERNETES_SYSCTL = file('90-kiab-kubernetes.conf');

/**
 * Pods cannot use the engine's DNS at 127.0.0.11 (that address is loopback in every network namespace, so
 * CoreDNS would query itself): each machine relays DNS from its own address to it, and kubelet hands pods
 * a resolv.conf naming that address.
 */
export const DNS_RELAY_SERVICE = file('kiab-dns-relay.service');
