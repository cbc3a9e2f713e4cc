// The gather is built from its section units (src/facts/sections.ts): the script holds exactly
// the parts of the sections asked, and each unit's parser, run on the captured output of real
// hosts (test/fixtures/facts), gives exactly its own fields of what the whole parse gives.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SECTION_UNITS } from '../../src/facts/sections.js';
import { gatherScriptBody, SECTIONS } from '../../src/facts/gather.js';
import { FIELD_SECTION, parseGatherOutput, splitSections } from '../../src/facts/index.js';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/facts/${f}`, import.meta.url), 'utf8');

test('one unit per section, in SECTIONS order, each with markers of its own', () => {
  assert.deepEqual(
    SECTION_UNITS.map((u) => u.section),
    [...SECTIONS],
  );
  const markers = SECTION_UNITS.flatMap((u) => u.markers);
  assert.equal(new Set(markers).size, markers.length);
});

test('the gather script is the prelude plus the parts of the sections asked, in order', () => {
  const body = gatherScriptBody({ services: ['nginx'], sections: ['uid', 'os'] });
  const wanted = new Set(['os', 'uid'] as const);
  const [os, uid] = [SECTION_UNITS[0], SECTION_UNITS[SECTION_UNITS.length - 1]].map((u) => u.part(['nginx'], wanted));
  assert.ok(body.indexOf(os) > 0 && body.indexOf(uid) > body.indexOf(os), 'os before uid');
  for (const u of SECTION_UNITS.filter((x) => !wanted.has(x.section as 'os'))) assert.ok(!body.includes(u.part(['nginx'], wanted)), `no ${u.section} part`);
  assert.match(body, /m end\nexit 0\n$/);
});

test('a section shares work only with the sections beside it: keepalived reads the package list, services the firewall units', () => {
  const keepalived = SECTION_UNITS.find((u) => u.section === 'keepalived')!;
  assert.match(keepalived.part([], new Set(['keepalived'])), /dpkg-query -W/);
  assert.doesNotMatch(keepalived.part([], new Set(['keepalived', 'packages'])), /dpkg-query -W/);
  const services = SECTION_UNITS.find((u) => u.section === 'services')!;
  assert.match(services.part(['nginx'], new Set(['services', 'firewall'])), /firewalld/);
  assert.doesNotMatch(services.part(['nginx'], new Set(['services'])), /firewalld/);
});

for (const file of ['debian12-controller.txt', 'debian12-controller-nobody.txt', 'rocky9-documented.txt', 'centos7-documented.txt']) {
  test(`${file}: each unit's parser gives its own fields of the whole parse`, () => {
    const text = fixture(file);
    const whole = parseGatherOutput(text) as unknown as Record<string, unknown>;
    const out = splitSections(text);
    const got: Record<string, unknown> = {};
    for (const u of SECTION_UNITS) {
      if (!u.markers.some((m) => out.has(m))) continue;
      const mine = u.parse({ out, family: (whole.os as { family: 'debian' }).family, got }) as Record<string, unknown>;
      for (const [field, value] of Object.entries(mine)) {
        assert.equal(FIELD_SECTION[field as keyof typeof FIELD_SECTION], u.section, `${u.section} sets only its own fields (${field})`);
        assert.deepEqual(value, whole[field], `${u.section}: ${field}`);
      }
      Object.assign(got, mine);
    }
    assert.ok(Object.keys(got).length >= 10, 'most sections were in the output');
  });
}
