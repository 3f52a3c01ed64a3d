/** The upstream unit's settings; LimitNOFILE is capped by kiab's machine-wide drop-in where the host needs it. */
export const K3S_SERVICE = `[Unit]
Description=Lightweight Kubernetes (k3s), run by kiab
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=notify
EnvironmentFile=-/etc/rancher/k3s/k3s.env
EnvironmentFile=/etc/kiab/k3s-role.env
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s \${K3S_ROLE}

[Install]
WantedBy=multi-user.target
`;
