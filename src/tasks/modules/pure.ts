// Modules that run on the controller and change no host: debug, set_fact, assert, fail.
import { OpError } from '../../ops/types.js';
import { condition, evaluate } from '../jinja.js';
import type { ModuleDef } from './types.js';

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export const debug: ModuleDef = {
  name: 'debug',
  args: { msg: { type: 'raw', default: 'Hello world!' }, var: { type: 'str' }, verbosity: { type: 'int', default: 0 } },
  expressions: ['var'],
  exclusive: [['msg', 'var']],
  async run(ctx, a) {
    const value = (expr: string) => {
      try {
        return show(evaluate(expr, ctx.vars));
      } catch {
        return 'VARIABLE IS NOT DEFINED!';
      }
    };
    const message = a.var !== undefined ? `${a.var}: ${value(String(a.var))}` : show(a.msg);
    return { plan: { changed: false, message }, result: { msg: a.msg } };
  },
};

export const setFact: ModuleDef = {
  name: 'set_fact',
  args: {},
  anyArgs: true,
  async run(ctx, a) {
    const { cacheable: _c, ...values } = a;
    ctx.setFacts(values);
    return { plan: { changed: false }, result: { ansible_facts: values } };
  },
};

export const assertModule: ModuleDef = {
  name: 'assert',
  args: {
    that: { type: 'list' },
    fail_msg: { type: 'raw', aliases: ['msg'] },
    success_msg: { type: 'raw', default: 'All assertions passed' },
    quiet: { type: 'bool', default: false },
  },
  expressions: ['that'],
  requiredOneOf: [['that']],
  async run(ctx, a) {
    for (const c of a.that as unknown[]) {
      if (!condition(c, ctx.vars)) throw new OpError(a.fail_msg !== undefined ? show(a.fail_msg) : `Assertion failed: ${show(c)}`);
    }
    return { plan: { changed: false, message: a.quiet ? undefined : show(a.success_msg) }, result: {} };
  },
};

export const fail: ModuleDef = {
  name: 'fail',
  args: { msg: { type: 'raw', default: 'Failed as requested from task' } },
  async run(_ctx, a) {
    throw new OpError(show(a.msg));
  },
};
