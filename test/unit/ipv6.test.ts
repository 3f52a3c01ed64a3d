import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalIpv6, ipv6NetworkOf, ipv6Of, nthSlash64 } from '../../src/net/ipv6.js';

describe('a cluster’s IPv6 addresses', () => {
  it('gives each cluster /24 its own unique-local /64, and each address its twin there', () => {
    assert.equal(ipv6NetworkOf('172.28.3.0/24'), 'fd6b:6961:62ac:1c03::/64');
    assert.equal(ipv6NetworkOf('172.29.0.0/24'), 'fd6b:6961:62ac:1d00::/64');
    assert.equal(ipv6Of('172.28.3.10'), 'fd6b:6961:62ac:1c03::10');
    assert.equal(ipv6Of('172.28.3.2'), 'fd6b:6961:62ac:1c03::2');
  });

  it('writes every address in its canonical form, as the kubelet and the engine do', () => {
    assert.equal(ipv6NetworkOf('10.0.0.0/24'), 'fd6b:6961:620a::/64');
    assert.equal(ipv6Of('10.0.5.50'), 'fd6b:6961:620a:5::50');
    assert.equal(canonicalIpv6('FD00:0010:0244:0000:0000:0000:0000:0001'), 'fd00:10:244::1');
  });

  it('numbers the /64s of a /56 as machines number their /24s, and refuses what is not a /64 of it', () => {
    assert.equal(nthSlash64('fd00:10:244::/56', 0), 'fd00:10:244::/64');
    assert.equal(nthSlash64('fd00:10:244::/56', 199), 'fd00:10:244:c7::/64');
    assert.throws(() => nthSlash64('fd00:10:244::/56', 256), RangeError);
    assert.throws(() => nthSlash64('fd00:10::/48', 1), /not an IPv6 \/56/);
  });
});
