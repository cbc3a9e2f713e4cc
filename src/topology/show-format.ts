// The HA plan (show.ts) as text: one table per network, then what the tracking blocks hold
// and how the expected times are reckoned.
import { textTable } from '../report/text-table.js';
import { fmtRange } from './show-timing.js';
import type { HaPlan, PlanMember } from './show.js';

const member = (m: PlanMember) => `${m.host} (${m.priority})`;
const fmtAdvert = (s: number) => (s >= 1 ? `${s} s` : `${Math.round(s * 1000)} ms`);

export function formatPlan(plan: HaPlan): string {
  const out: string[] = [];
  const v = new Set(plan.networks.flatMap((n) => n.vips.map((x) => x.version)));
  const source = plan.mode === 'explicit' ? 'from the hosts\' vrrp_instances' : 'derived from ha.networks';
  out.push(`HA plan: profile ${plan.profile}, VRRPv${[...v].join('/v') || '?'}, multicast ${plan.mcastGroup}, instances ${source}`);
  const blocks = new Map<string, string>();
  const whens = new Map<string, string>();
  for (const net of plan.networks) {
    out.push('', `network ${net.name} (${net.interface}, ${net.subnet})`);
    const rows: string[][] = [];
    for (const x of net.vips) {
      // Tracking methods with the same expected times share a row ("track_process or track_file").
      const groups = new Map<string, { blocks: string[]; weight: number; times: string[] }>();
      x.tracking.forEach((t, i) => {
        whens.set(t.block.split(' ')[0], t.when);
        blocks.set(t.block, t.detail);
        const e = x.expected[i];
        const times = e ? [fmtRange(e.nginx), fmtRange(e.keepalivedStop), fmtRange(e.powerOff)] : ['-', '-', '-'];
        const key = `${t.weight} ${times.join(' ')}`;
        const g = groups.get(key) ?? { blocks: [], weight: t.weight, times };
        g.blocks.push(t.block.split(' ')[0]);
        groups.set(key, g);
      });
      const list = [...groups.values()];
      if (list.length === 0) list.push({ blocks: [], weight: 0, times: ['-', '-', '-'] });
      list.forEach((g, i) => {
        const head = i === 0 ? [x.address, String(x.vrid), x.master ? member(x.master) : '-', x.backups.map(member).join(', ') || '-'] : ['', '', '', ''];
        const track = g.blocks.length ? `${g.blocks.join(' or ')}, weight ${g.weight}` : '-';
        rows.push([...head, track, i === 0 ? fmtAdvert(x.advertInt) : '', ...g.times]);
      });
      for (const n of x.notes) rows.push([x.address, '', '', `NOTE: ${n}`, '', '', '', '', '']);
      for (const e of x.expected) if (e.note) rows.push([x.address, '', '', `NOTE: nginx dying moves nothing: ${e.note}`, '', '', '', '', '']);
    }
    out.push(textTable(['VIP', 'VRID', 'MASTER (PRIO)', 'BACKUPS (PRIO)', 'TRACKING (MASTER)', 'ADVERT', 'NGINX DIES', 'KEEPALIVED STOPS', 'POWER OFF'], rows));
  }
  out.push('');
  for (const [block, detail] of blocks) out.push(`${block}: ${detail} (${whens.get(block.split(' ')[0])})`);
  out.push(
    'Expected times: how long no node holds the VIP, from keepalived\'s timers. A backup hearing a priority-0 advert',
    '(nginx dead with weight 0, keepalived stopping) waits skew = (256 - its priority) / 256 x advert; hearing nothing',
    '(power off) it waits 3 x advert + skew after the last advert. Clients see a little more (ARP, their timeouts).',
  );
  return out.join('\n');
}
