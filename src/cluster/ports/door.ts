import { LABEL, clusterLabels, encodeJsonLabel } from '../../labels.js';
import type { ClusterNames } from '../../names.js';
import { boxAddress, type Subnet } from '../../net/addresses.js';
import type { AddedPort } from '../../net/added-ports.js';
import type { ContainerFile, ContainerSpec } from '../../provider/types.js';
import { kiabVersion } from '../../version.js';
import { FORWARDS_PATH } from '../lifecycle/box.js';

/*
 * A door publishes one added port: the host's HOSTPORT reaches the door's box port, which the door passes on
 * to the same port of the box (one DNAT rule, applied by the box image's own kiab-box-forward at every start).
 * It holds no routing of its own: the box decides where each added port goes, so a door never changes when
 * machines come and go, and the box is never made again to publish a port.
 */

export function doorContainerSpec(names: ClusterNames, image: string, ip: string, port: AddedPort): ContainerSpec {
  const name = names.door(port.hostPort, port.protocol);
  return {
    name,
    hostname: name,
    image,
    kind: 'router',
    labels: { ...clusterLabels(names.cluster, 'port', kiabVersion), [LABEL.ip]: ip, [LABEL.port]: encodeJsonLabel(port) },
    network: { name: names.network, ip },
    volumes: [],
    publish: [{ containerPort: port.boxPort, protocol: port.protocol, hostIp: port.listen, hostPort: port.hostPort }],
  };
}

/** The door's one forward, in place before its first start. */
export function doorFiles(names: ClusterNames, subnet: Subnet, port: AddedPort): ContainerFile[] {
  return [
    {
      path: FORWARDS_PATH,
      content: `# Written by kiab for cluster ${names.cluster}: PROTOCOL PORTS TARGET\n${port.protocol} ${port.boxPort} ${boxAddress(subnet)}\n`,
    },
  ];
}
