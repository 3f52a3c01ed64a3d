import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
  V1StorageClass,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { COMPONENTS } from './components.js';
import { addonLabels, ON_SERVERS, type AddonImages, type AddonManifest } from './types.js';

const NAMESPACE = 'local-path-storage';
const NAME = 'local-path-provisioner';
const ACCOUNT = 'local-path-provisioner-service-account';
const labels = addonLabels('storage', NAME);

/** Where volumes' data lives on each machine: a volume of its own, so snapshots capture it (the upstream default path). */
export const LOCAL_PATH_DIR = '/opt/local-path-provisioner';
export const STORAGE_CLASS = 'local-path';

// local-path's helper pods, which make and remove a volume's folder on its node, run the set's busybox.
export const STORAGE_IMAGES: AddonImages = [
  { component: 'local-path-provisioner', on: 'servers' },
  { component: 'busybox', on: 'all' },
];

/** local-path-provisioner as upstream deploys it (deploy/local-path-storage.yaml), its StorageClass the default. */
export function storageAddon(): AddonManifest {
  const namespace: V1Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels } };
  const account: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: ACCOUNT, namespace: NAMESPACE, labels } };
  const role: V1Role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'local-path-provisioner-role', namespace: NAMESPACE, labels },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] }],
  };
  const clusterRole: V1ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'local-path-provisioner-role', labels },
    rules: [
      { apiGroups: [''], resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
    ],
  };
  const subjects = [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: NAMESPACE }];
  const roleBinding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'local-path-provisioner-bind', namespace: NAMESPACE, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'local-path-provisioner-role' },
    subjects,
  };
  const clusterRoleBinding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'local-path-provisioner-bind', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'local-path-provisioner-role' },
    subjects,
  };
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [{ name: 'helper-pod', image: COMPONENTS.busybox.image, imagePullPolicy: 'IfNotPresent' }],
    },
  };
  const config: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'local-path-config', namespace: NAMESPACE, labels },
    data: {
      'config.json': JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [LOCAL_PATH_DIR] }] }, null, 2),
      setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
      teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
      'helperPod.yaml': stringify(helperPod),
    },
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME } },
        spec: {
          serviceAccountName: ACCOUNT,
          ...ON_SERVERS,
          containers: [
            {
              name: NAME,
              image: COMPONENTS['local-path-provisioner'].image,
              imagePullPolicy: 'IfNotPresent',
              command: ['local-path-provisioner', '--debug', 'start', '--config', '/etc/config/config.json'],
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/config/' }],
              env: [
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'CONFIG_MOUNT_PATH', value: '/etc/config/' },
              ],
            },
          ],
          volumes: [{ name: 'config-volume', configMap: { name: 'local-path-config' } }],
        },
      },
    },
  };
  const storageClass: V1StorageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS, labels, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path',
    volumeBindingMode: 'WaitForFirstConsumer',
    reclaimPolicy: 'Delete',
  };
  return {
    name: 'storage',
    definitions: [],
    objects: [namespace, account, role, clusterRole, roleBinding, clusterRoleBinding, config, deployment, storageClass],
    registrations: [],
    probe: {
      component: `local-path-provisioner ${COMPONENTS['local-path-provisioner'].image.split(':').pop()}`,
      deployments: [{ namespace: NAMESPACE, name: NAME }],
      daemonSets: [],
      apiServices: [],
      present: [{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: STORAGE_CLASS }],
    },
  };
}
