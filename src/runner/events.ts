import type { TaskResult } from '../ops/types.js';

export type RunEvent =
  | { type: 'play'; play: string; hosts: string[] }
  | { type: 'batch'; play: string; hosts: string[] }
  | { type: 'host-start'; host: string }
  | { type: 'task-start'; host: string; role?: string; task: string }
  | { type: 'task-end'; result: TaskResult }
  | { type: 'host-end'; host: string; status: 'ok' | 'failed' | 'unreachable' | 'interrupted'; message?: string }
  | { type: 'warn'; host?: string; message: string };

export type EventSink = (e: RunEvent) => void;
