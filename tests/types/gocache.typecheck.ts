/**
 * Typed per server: a client connected to GoCache (the default) offers only what GoCache serves,
 * with GoCache's options; a client connected with `server: 'redis'` offers every Redis command.
 * Checked by `tsc --noEmit` (this file is in tsconfig's include) and by tests/types/typecheck-files.test.ts.
 * Nothing here runs. Lines under `// @ts-expect-error` must NOT compile.
 */
import { GoCacheClient, type GoCacheBuffers, type Multi, type Pipeline } from '../../src/index.js';
import { expectType } from './api.typecheck.js';

declare const cache: GoCacheClient;
declare const redis: GoCacheClient<'redis'>;

export async function connectPicksTheServer(): Promise<void> {
  expectType<GoCacheClient<'gocache'>>()(await GoCacheClient.connect());
  expectType<GoCacheClient<'gocache'>>()(await GoCacheClient.connect({ port: 7000 }));
  expectType<GoCacheClient<'gocache'>>()(await GoCacheClient.connect('gocache://localhost:7000'));
  expectType<GoCacheClient<'redis'>>()(await GoCacheClient.connect({ server: 'redis' }));
  expectType<GoCacheClient<'redis'>>()(await GoCacheClient.connect('redis://localhost:6379'));
  expectType<GoCacheClient<'redis'>>()(await GoCacheClient.connect({ url: 'redis://localhost:6379/2' }));
  expectType<GoCacheClient<'redis'>>()(await GoCacheClient.connect({ protocol: 3 }));
  expectType<GoCacheClient<'redis'>>()(await GoCacheClient.connect({ server: 'redis', password: 'secret', database: 1 }));
  const server = (process.env['SERVER'] === 'redis' ? 'redis' : 'gocache') as 'redis' | 'gocache';
  expectType<GoCacheClient<'redis'> | GoCacheClient<'gocache'>>()(await GoCacheClient.connect({ server }));
  // @ts-expect-error GoCache has no AUTH: a password needs server: 'redis'
  void GoCacheClient.connect({ port: 7000, password: 'secret' });
  // @ts-expect-error GoCache has no databases
  void GoCacheClient.connect({ database: 1 });
}

export function gocacheCallsThatCompile(): void {
  expectType<Promise<'OK'>>()(cache.set('k', 'v'));
  expectType<Promise<'OK'>>()(cache.set('k', 'v', { ex: 60 }));
  expectType<Promise<string | null>>()(cache.get('k'));
  expectType<Promise<number>>()(cache.del('a', 'b', 'c'));
  expectType<Promise<number>>()(cache.delete('a'));
  expectType<Promise<'PONG'>>()(cache.ping());
  expectType<Promise<number>>()(cache.dbsize());
  expectType<Promise<number>>()(cache.publish('news', 'hello'));
  expectType<Promise<Buffer | null>>()(cache.buffers.get('k'));
  expectType<GoCacheBuffers>()(cache.buffers);
  expectType<Promise<['OK', string | null, number]>>()(cache.pipeline().set('a', '1').get('a').del('a', 'b').exec());
  expectType<Pipeline<'gocache', string, ['OK']>>()(cache.pipeline().set('a', '1'));
  expectType<Promise<['OK', string | null, number]>>()(cache.multi().set('a', '1').get('a').del('a').exec());
  expectType<Multi<'gocache', string, [string | null]>>()(cache.multi().get('a'));
  expectType<Promise<[Buffer | null]>>()(cache.buffers.pipeline().get('k').exec());
  expectType<Promise<unknown>>()(cache.sendCommand<unknown>(['CLUSTER', 'HEALTH']));
}

export function gocacheCallsThatMustNotCompile(): void {
  // @ts-expect-error GoCache's SET takes EX only
  void cache.set('k', 'v', { px: 5 });
  // @ts-expect-error GoCache's SET has no NX
  void cache.set('k', 'v', { nx: true });
  // @ts-expect-error GoCache's SET has no GET
  void cache.set('k', 'v', { get: true });
  // @ts-expect-error GoCache has no INCR
  void cache.incr('k');
  // @ts-expect-error GoCache has no MGET
  void cache.mget('a', 'b');
  // @ts-expect-error GoCache has no pattern subscriptions
  void cache.psubscribe('news.*');
  // @ts-expect-error GoCache has no scripts
  void cache.runScript('return 1');
  // @ts-expect-error GoCache has no WATCH
  void cache.watch(['k'], (tx) => tx.multi());
  // @ts-expect-error GoCache has no SCAN, so no scan iterator
  void cache.scanIterator();
  // @ts-expect-error the buffers view follows the server too
  void cache.buffers.incr('k');
  // @ts-expect-error a GoCache pipeline has GoCache's commands only
  void cache.pipeline().get('a').incr('n');
  // @ts-expect-error a GoCache pipeline's SET takes EX only
  void cache.pipeline().set('k', 'v', { px: 5 });
  // @ts-expect-error DBSIZE deadlocks GoCache inside MULTI
  void cache.multi().dbsize();
  // @ts-expect-error GoCache refuses PUBLISH inside MULTI
  void cache.multi().publish('news', 'x');
  // @ts-expect-error GoCache's DEL takes one key, and a transaction cannot hold several commands for one
  void cache.multi().del('a', 'b');
  // @ts-expect-error GoCache's PING always answers PONG, never the message
  expectType<Promise<string>>()(cache.ping('hello'));
}

export function redisCallsThatCompile(): void {
  expectType<Promise<'OK' | null>>()(redis.set('k', 'v', { px: 5, nx: true }));
  expectType<Promise<string | null>>()(redis.set('k', 'v', { get: true }));
  expectType<Promise<number>>()(redis.incr('k'));
  expectType<Promise<Array<string | null>>>()(redis.mget('a', 'b'));
  expectType<Promise<number>>()(redis.del('a', 'b', 'c'));
  expectType<Promise<[number, 'OK' | null]>>()(redis.pipeline().incr('n').set('k', 'v', { px: 5 }).exec());
  expectType<Promise<[number]>>()(redis.multi().dbsize().exec());
  expectType<Promise<Buffer | null>>()(redis.buffers.getdel('k'));
}
