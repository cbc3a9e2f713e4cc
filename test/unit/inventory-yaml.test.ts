// Scalars are typed exactly as Ansible's YAML loader (PyYAML 6.0, YAML 1.1 rules) types them.
// The expected column was produced by ansible-core 2.14's own loader on this machine:
//   /usr/bin/python3 -c 'from ansible.parsing.yaml.loader import AnsibleLoader; ...'
// (timestamps as Python's isoformat(), which is how ansible-inventory prints them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { YamlSource, pyFloatRepr } from '../../src/inventory/yaml.js';
import { InputError } from '../../src/errors.js';

type Expected = unknown | { float: 'Infinity' | '-Infinity' | 'NaN' | '-0' };

const PYYAML: Array<[string, Expected]> = [
  ["yes", true],
  ["Yes", true],
  ["YES", true],
  ["yEs", "yEs"],
  ["no", false],
  ["No", false],
  ["NO", false],
  ["on", true],
  ["On", true],
  ["ON", true],
  ["off", false],
  ["Off", false],
  ["OFF", false],
  ["true", true],
  ["True", true],
  ["TRUE", true],
  ["false", false],
  ["False", false],
  ["FALSE", false],
  ["y", "y"],
  ["Y", "Y"],
  ["n", "n"],
  ["N", "N"],
  ["~", null],
  ["null", null],
  ["Null", null],
  ["NULL", null],
  ["nULL", "nULL"],
  ["", null],
  ["0", 0],
  ["00", 0],
  ["0644", 420],
  ["-0644", -420],
  ["+0644", 420],
  ["0o644", "0o644"],
  ["08", "08"],
  ["09", "09"],
  ["0_7", 7],
  ["1_000", 1000],
  ["-17", -17],
  ["+17", 17],
  ["0x1F", 31],
  ["0X1F", "0X1F"],
  ["0b101", 5],
  ["-0b11", -3],
  ["1:30", 90],
  ["-1:30", -90],
  ["0:30", "0:30"],
  ["190:20:30", 685230],
  ["1e3", "1e3"],
  ["1E3", "1E3"],
  ["1e+3", "1e+3"],
  ["1.0e3", "1.0e3"],
  ["1.0e+3", 1000.0],
  ["1.0E-3", 0.001],
  ["1.5", 1.5],
  ["2.", 2.0],
  [".5", 0.5],
  ["-.5", "-.5"],
  ["+.5", "+.5"],
  ["-1.5", -1.5],
  ["1_0.5", 10.5],
  [".inf", {"float": "Infinity"}],
  ["-.inf", {"float": "-Infinity"}],
  ["+.INF", {"float": "Infinity"}],
  [".Inf", {"float": "Infinity"}],
  [".nan", {"float": "NaN"}],
  [".NaN", {"float": "NaN"}],
  ["190:20:30.15", 685230.15],
  ["2024-01-02", "2024-01-02"],
  ["2024-1-2", "2024-1-2"],
  ["2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.100000-05:00"],
  ["2001-12-14 21:59:43.10 -5", "2001-12-14T21:59:43.100000-05:00"],
  ["2001-12-14T21:59:43Z", "2001-12-14T21:59:43+00:00"],
  ["2001-12-14T21:59:43.123456789Z", "2001-12-14T21:59:43.123456+00:00"],
  ["2001-12-14 21:59:43", "2001-12-14T21:59:43"],
  ["2001-12-14 21:59:43 +05:30", "2001-12-14T21:59:43+05:30"],
  ["2001-12-14 21:59:43 -0:00", "2001-12-14T21:59:43+00:00"],
  ["1.2.3", "1.2.3"],
  ["10.16.8.100", "10.16.8.100"],
  ["10.16.8.0/24", "10.16.8.0/24"],
  ["0.5.1", "0.5.1"],
  ["<<x", "<<x"],
  ["-x", "-x"],
  ["--x", "--x"],
  ["..", ".."],
  ["1__2", 12],
  ["-0", 0],
  ["-0.0", {"float": "-0"}],
  ["12:60", "12:60"],
  ["3:5:7", 11107],
  ["'yes'", "yes"],
  ["\"0644\"", "0644"],
  ["!!str 0644", "0644"],
  ["!unsafe yes", "yes"],
];

function value(src: string): unknown {
  const y = YamlSource.parse(src, '/virtual/test.yaml');
  return (y.toJS(y.root) as Record<string, unknown>).v;
}

function want(e: Expected): unknown {
  if (e && typeof e === 'object' && 'float' in e) {
    return { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN, '-0': -0 }[(e as { float: string }).float];
  }
  return e;
}

for (const [scalar, expected] of PYYAML) {
  test(`YAML 1.1 scalar as PyYAML reads it: v: ${scalar}`, () => {
    const got = value(`v: ${scalar}\n`);
    assert.ok(Object.is(got, want(expected)) || (typeof got === 'string' && got === expected), `${scalar} → ${String(got)} (${typeof got}), PyYAML: ${JSON.stringify(expected)}`);
  });
}

test('non-string mapping keys are named as Python json.dumps names them', () => {
  const got = value('v: {1: a, 1.5: b, 2.0: c, on: d, ~: e, 1e3: f, 0644: g}\n') as Record<string, unknown>;
  assert.deepEqual(got, { '1': 'a', '1.5': 'b', '2.0': 'c', true: 'd', null: 'e', '1e3': 'f', '420': 'g' });
});

test('pyFloatRepr matches Python repr()', () => {
  const cases: Array<[number, string]> = [
    [2, '2.0'], [1.5, '1.5'], [0.001, '0.001'], [0.0001, '0.0001'], [0.00001, '1e-05'],
    [1e15, '1000000000000000.0'], [1e16, '1e+16'], [1.5e-7, '1.5e-07'], [-0, '-0.0'], [123456.789, '123456.789'],
  ];
  for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s, `repr(${x})`);
});

test('merge keys follow PyYAML: own keys win, and in a list the first map wins', () => {
  const got = value('a: &a {x: 1, y: 1}\nv:\n  <<: [*a, {x: 2, z: 2}]\n  y: own\n');
  assert.deepEqual(got, { x: 1, y: 'own', z: 2 });
});

test('a file that parses as JSON is read as JSON (1e5 is a number there)', () => {
  assert.equal(value('{"v": 1e5}'), 100000);
  assert.equal(value('v: 1e5\n'), '1e5');
});

test('a "__proto__" key is an ordinary key', () => {
  const got = value('v: {__proto__: {polluted: true}}\n') as Record<string, unknown>;
  assert.deepEqual(Object.keys(got), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('!vault and unknown tags are rejected with a position', () => {
  for (const [src, msg] of [
    ['v: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132\n', /Ansible Vault/],
    ['v: !!binary aGk=\n', /unsupported YAML tag/],
    ['x: 1\nv: !custom 1\n', /unsupported YAML tag !custom/],
  ] as const) {
    assert.throws(() => value(src), (e: unknown) => e instanceof InputError && msg.test(e.message) && e.pos?.line !== undefined);
  }
});
