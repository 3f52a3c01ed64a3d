import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { apiServerUrl, userKubeconfig, type ApiAddress } from '../../src/cluster/kubernetes.js';
import { clusterNames } from '../../src/names.js';
import { KiabError } from '../../src/errors.js';
import type { HostPorts } from '../../src/net/ports.js';

const clusterEntry = `clusters:
- name: default
  cluster: {certificate-authority-data: Q0EtREFUQQ==, server: 'https://127.0.0.1:6443'}
`;
const userEntry = `users:
- name: default
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
`;
const admin = `apiVersion: v1
kind: Config
${clusterEntry}${userEntry}contexts:
- name: default
  context: {cluster: default, user: default}
current-context: default
`;

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: Record<string, string> }>;
  users: Array<{ name: string; user: Record<string, string> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context': string;
}

describe('user kubeconfig', () => {
  const server = 'https://127.0.0.1:41001';
  const config = parse(userKubeconfig(admin, clusterNames('dev'), server)) as Kubeconfig;

  it('points the cluster at the given server and keeps its CA', () => {
    assert.deepEqual(config.clusters, [{ name: 'kiab-dev', cluster: { 'certificate-authority-data': 'Q0EtREFUQQ==', server } }]);
  });

  it('keeps the client certificate and key', () => {
    assert.deepEqual(config.users, [{ name: 'kiab-dev', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }]);
  });

  it('names everything kiab-NAME and makes that the current context', () => {
    assert.deepEqual(config.contexts, [{ name: 'kiab-dev', context: { cluster: 'kiab-dev', user: 'kiab-dev' } }]);
    assert.equal(config['current-context'], 'kiab-dev');
  });

  const broken = [
    { what: 'no cluster', text: `apiVersion: v1\n${userEntry}` },
    { what: 'no user', text: `apiVersion: v1\n${clusterEntry}` },
    { what: 'empty lists', text: 'clusters: []\nusers: []\n' },
  ];
  for (const { what, text } of broken) {
    it(`refuses an admin kubeconfig with ${what}`, () => {
      assert.throws(() => userKubeconfig(text, clusterNames('dev'), server), KiabError);
    });
  }
});

describe('API server URL', () => {
  const ports: HostPorts = { api: 41001, http: 41002, https: 41003, registry: 41004 };
  const cases: Array<{ address: ApiAddress; url: string }> = [
    { address: 'localhost', url: 'https://127.0.0.1:41001' },
    { address: 'box', url: 'https://172.28.0.2:6443' },
  ];
  for (const { address, url } of cases) {
    it(`${address}: ${url}`, () => {
      assert.equal(apiServerUrl(ports, '172.28.0.2', address), url);
    });
  }
});
