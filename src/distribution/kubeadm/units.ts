/* systemd units and system settings baked into the kubeadm node image. */

export const KUBELET_SERVICE = `[Unit]
Description=kubelet: the Kubernetes node agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target containerd.service
After=network-online.target containerd.service
# Until kubeadm has written its configuration, kubelet exits and is restarted (the upstream behaviour),
# so systemd must never give up on it.
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
`;

/** The settings of upstream's 10-kubeadm.conf drop-in: kubeadm writes the files these point at. */
export const KUBELET_KUBEADM_DROPIN = `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

/** kube-proxy as a machine service rather than a DaemonSet: no image needed, same binary and config. */
export const KUBE_PROXY_SERVICE = `[Unit]
Description=kube-proxy: Kubernetes service proxy
After=network-online.target kubelet.service
ConditionPathExists=/etc/kubernetes/kubelet.conf
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/bin/kube-proxy --config=/etc/kiab/kube-proxy.yaml
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
`;

export const POD_NETWORK_SERVICE = `[Unit]
Description=kiab pod routes to the other machines
After=network-online.target
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/kiab-pod-network

[Install]
WantedBy=multi-user.target
`;

export const KUBERNETES_SYSCTL = `# Written by kiab: what kubelet, kube-proxy and the bridge CNI need.
net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
`;

/**
 * Pods cannot use the engine's DNS at 127.0.0.11 (that address is loopback in every network namespace, so
 * CoreDNS would query itself): each machine relays DNS from its own address to it, and kubelet hands pods
 * a resolv.conf naming that address.
 */
export const DNS_RELAY_SERVICE = `[Unit]
Description=kiab DNS relay from the machine address to the engine's resolver
After=network-online.target
Before=kubelet.service

[Service]
EnvironmentFile=/etc/kiab/node.env
ExecStart=/usr/bin/socat UDP4-LISTEN:53,bind=\${NODE_IP},fork,reuseaddr UDP4:127.0.0.11:53
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
`;
