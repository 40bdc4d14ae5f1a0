/**
 * The wire contract in GoCache mode, for every command of spec/, driven by the generated models (a
 * command added to spec/ is covered with no change here), against the scripted GoCache peer
 * (testkit/gocache-peer.ts, which fails closed and records every byte). A client with the default
 * server, 'gocache', called through a JavaScript-style view (a cast: GoCache's client type hides the
 * Redis-only methods on purpose, a JavaScript caller still has them):
 * - a command GoCache does not serve (`gocache.supported: false`) rejects with GoCacheArgumentError on
 *   the client, in a pipeline and in a transaction, and nothing is written: the next bytes the peer
 *   receives on that connection are the PING sent after it, and no connection is opened;
 * - an option (or positional) GoCache does not accept (`gocache: false`) rejects the same way;
 * - a command it serves, called with representative arguments built from its GoCache view (see
 *   tests/contract/representative.ts), resolves, and writes only non-empty arrays of bulk strings with
 *   honest lengths and upper-case names, starting with the command's words (one command per element
 *   for a command GoCache takes one element at a time, its DEL); the same inside MULTI where GoCache
 *   runs it there, and rejected before sending where it does not; the peer records no violation.
 * Commands the core drives (MULTI, SUBSCRIBE, ...) have no generated method: CORE says how each is
 * called, and a core command missing from it fails the test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ArgModel, CommandModel } from '../../codegen/model.js';
import { gocacheView } from '../../codegen/model.js';
import { GoCacheArgumentError, GoCacheClient, GoCacheCommandError } from '../../src/index.js';
import { startGoCachePeer, type GoCachePeer } from '../../testkit/gocache-peer.js';
import { builderOf, callWithOption, loadModels, parseRequests, representativeCalls, type Call } from './representative.js';

type Method = (...args: unknown[]) => Promise<unknown>;
/** A pipeline or transaction as a JavaScript caller holds it: each command returns the chain. */
type JsChain = { [method: string]: (...args: unknown[]) => JsChain } & { exec(): Promise<unknown[]> };
/** What a JavaScript caller holds: every method, whatever the server. */
type JsView = { [method: string]: Method } & { pipeline(): JsChain; multi(): JsChain };

const models = loadModels();
const served = models.filter((m) => m.gocache.supported);
const refused = models.filter((m) => !m.gocache.supported);
/** Names GoCache serves: every request the SDK writes must be one of them. */
const servedNames = new Set(served.map((m) => m.words[0]!));

let peer: GoCachePeer;
let client: GoCacheClient;
const js = (): JsView => client as unknown as JsView;

beforeAll(async () => {
  // CLUSTER NODES answers this canned text, so every served call has a documented, successful reply.
  peer = await startGoCachePeer({ clusterNodes: 'n1 127.0.0.1:27001 dead\nn2 127.0.0.1:27002 alive\n' });
  client = await GoCacheClient.connect({ host: peer.host, port: peer.port });
  expect(client.server).toBe('gocache');
});
afterEach(() => {
  // Taken, not read: each test answers for its own violations only.
  expect(peer.takeViolations()).toEqual([]);
  expect(peer.crashed).toBe(false);
});
afterAll(async () => {
  await client?.close();
  await peer?.close();
});

/**
 * Runs `attempt`, which must reject with GoCacheArgumentError, and shows that nothing was written for
 * it: the bytes the peer receives next are exactly those of a PING sent afterwards on the same
 * connection, and no connection was opened.
 */
async function refusedBeforeSending(attempt: () => unknown, what: string): Promise<void> {
  const bytes = peer.received().length;
  const connections = peer.connectionCount;
  let outcome: unknown;
  try {
    outcome = await attempt();
  } catch (error) {
    outcome = error;
  }
  expect(outcome, `${what} must reject`).toBeInstanceOf(GoCacheArgumentError);
  expect(await client.ping()).toBe('PONG');
  expect(peer.received().subarray(bytes).toString('latin1'), `${what} wrote something`).toBe('*1\r\n$4\r\nPING\r\n');
  expect(peer.connectionCount, `${what} opened a connection`).toBe(connections);
}

/** The requests written while `run` ran, read strictly; each is a command GoCache serves, upper-case. */
async function written(run: () => Promise<unknown>): Promise<{ requests: string[][]; outcome: unknown }> {
  const bytes = peer.received().length;
  const outcome = await run();
  const requests = parseRequests(peer.received().subarray(bytes)).map((r) => r.map((word) => word.toString('latin1')));
  for (const request of requests) {
    expect(request[0], JSON.stringify(request)).toMatch(/^[A-Z]+$/);
    expect(servedNames, `${request[0]} is not a command GoCache serves`).toContain(request[0]);
  }
  return { requests, outcome };
}

/** The requests of `model` among `requests`; for a split command (GoCache's DEL), each holds one element. */
function ownRequests(model: CommandModel, requests: string[][]): string[][] {
  const own = requests.filter((r) => model.words.every((word, i) => r[i] === word));
  expect(own.length, `no ${model.command} among ${JSON.stringify(requests)}`).toBeGreaterThan(0);
  if (model.gocache.split !== undefined) for (const r of own) expect(r).toHaveLength(model.words.length + 1);
  return own;
}

/** How the core drives the commands that have no generated method, against GoCache. */
const CORE: Record<string, { served: (call: Call) => Promise<unknown> } | { refused: (call: Call) => Promise<unknown> } | { neverSent: string }> = {
  SUBSCRIBE: {
    served: async (call) => {
      const sub = await js()['subscribe']!(...(call.builderArgs[0] as unknown[]));
      await (sub as { close(): Promise<void> }).close();
    },
  },
  UNSUBSCRIBE: {
    served: async (call) => {
      const channels = (call.builderArgs[0] as string[] | undefined) ?? ['ctr:unsubscribe'];
      const sub = (await js()['subscribe']!(...channels)) as { unsubscribe(...c: unknown[]): Promise<void>; close(): Promise<void> };
      await sub.unsubscribe(channels[0]);
      await sub.close();
    },
  },
  MULTI: { served: () => js().multi()['ping']!().exec() },
  EXEC: { served: () => js().multi()['get']!('ctr:exec').exec() },
  DISCARD: { neverSent: 'multi() sends nothing until exec(), so DISCARD is never needed' },
  PSUBSCRIBE: { refused: (call) => js()['psubscribe']!(...(call.builderArgs[0] as unknown[])) },
  PUNSUBSCRIBE: { neverSent: 'a pattern subscription cannot be opened on GoCache (PSUBSCRIBE is refused)' },
  WATCH: { refused: (call) => js()['watch']!(call.builderArgs[0], () => js().multi()) },
  UNWATCH: { neverSent: 'only watch() sends it, and watch() is refused on GoCache' },
  SSUBSCRIBE: { refused: (call) => js()['ssubscribe']!(...(call.builderArgs[0] as unknown[])) },
  SUNSUBSCRIBE: { neverSent: 'a shard channel subscription cannot be opened on GoCache (SSUBSCRIBE is refused)' },
  MONITOR: { refused: () => js()['monitor']!() },
  HELLO: { neverSent: 'the handshake sends HELLO only for protocol 3, an option a GoCache client refuses' },
  SELECT: { neverSent: 'the handshake sends SELECT only for the database option, which a GoCache client refuses' },
  QUIT: { neverSent: 'close() ends the socket without QUIT' },
  RESET: { neverSent: 'no method sends it: a new client is the reset' },
};

function core(model: CommandModel): (typeof CORE)[string] {
  const driver = CORE[model.command];
  if (driver === undefined) throw new Error(`${model.command} is driven by the core (${model.core!.api}): say in CORE how a caller reaches it`);
  return driver;
}

describe.each(refused.map((model) => ({ name: model.command, model })))('$name, which GoCache does not serve', ({ model }) => {
  const call = representativeCalls(model)[0]!;

  it('its builder refuses it for GoCache', async () => {
    const build = await builderOf(model);
    expect(() => build({ server: 'gocache' }, ...call.builderArgs)).toThrow(GoCacheArgumentError);
    expect(() => build({ server: 'gocache' }, ...call.builderArgs)).toThrow(`${model.command} is not served by GoCache`);
  });

  if (model.core !== undefined) {
    it('the core refuses it before writing anything', async () => {
      const driver = core(model);
      if ('served' in driver) throw new Error(`CORE.${model.command} drives it as served, but the spec says GoCache does not serve it`);
      if ('neverSent' in driver) {
        expect(driver.neverSent).not.toBe('');
        return;
      }
      await refusedBeforeSending(() => driver.refused(call), model.command);
    });
    return;
  }

  it('the client, a pipeline and a transaction reject it with GoCacheArgumentError, writing nothing', async () => {
    await refusedBeforeSending(() => js()[model.method]!(...call.methodArgs), `client.${model.method}()`);
    await refusedBeforeSending(() => js().pipeline()[model.method]!(...call.methodArgs).exec(), `pipeline().${model.method}()`);
    await refusedBeforeSending(() => js().multi()[model.method]!(...call.methodArgs).exec(), `multi().${model.method}()`);
  });
});

describe.each(served.map((model) => ({ name: model.command, model })))('$name, which GoCache serves', ({ model }) => {
  const view = gocacheView(model)!;
  const calls = representativeCalls(view);
  /** Calls holding what GoCache does not accept: each option with `gocache: false`, every positional when one has it. */
  const notAccepted: Array<{ arg: ArgModel; call: Call }> = [
    ...model.options.filter((o) => !o.gocache).map((arg) => ({ arg, call: callWithOption(model, arg) })),
    ...model.positionals.filter((p) => !p.gocache).map((arg) => ({ arg, call: representativeCalls(model).find((c) => c.label === 'every positional')! })),
  ];

  if (model.core !== undefined) {
    it.each(calls.map((call) => ({ label: call.label, call })))('$label: the core writes only well-formed upper-case requests', async ({ call }) => {
      const driver = core(model);
      if ('refused' in driver) throw new Error(`CORE.${model.command} drives it as refused, but the spec says GoCache serves it`);
      if ('neverSent' in driver) {
        // Never written by the SDK; its builder still makes a request GoCache takes (documented reply, no violation).
        const argv = (await builderOf(model))({ server: 'gocache' }, ...call.builderArgs);
        const { requests, outcome } = await written(() => client.sendCommand(argv).catch((e: unknown) => e));
        expect(ownRequests(model, requests)).toEqual([model.words]);
        expect(outcome).toBeInstanceOf(GoCacheCommandError);
        expect((outcome as Error).message).toBe(`ERR ${model.command} without MULTI`);
        return;
      }
      const { requests } = await written(() => driver.served(call));
      ownRequests(model, requests);
    });
    return;
  }

  it.each(calls.map((call) => ({ label: call.label, call })))('$label: resolves, writing only well-formed upper-case requests', async ({ call }) => {
    const { requests } = await written(() => js()[model.method]!(...call.methodArgs));
    const own = ownRequests(model, requests);
    expect(own).toHaveLength(requests.length);
  });

  it.each(calls.map((call) => ({ label: call.label, call })))('$label, inside MULTI: sent where GoCache runs it there, refused before sending where not', async ({ call }) => {
    let args = call.methodArgs;
    const queue = () => js().multi()[model.method]!(...args).exec();
    if (model.gocache.multi !== undefined) {
      await refusedBeforeSending(queue, `multi().${model.method}()`);
      return;
    }
    if (model.gocache.split !== undefined) {
      // Several elements are several commands on GoCache, which one queued result cannot hold.
      await refusedBeforeSending(queue, `multi().${model.method}() of ${args.length} elements`);
      args = args.slice(0, 1);
    }
    const { requests, outcome } = await written(queue);
    expect(requests[0]).toEqual(['MULTI']);
    expect(requests.at(-1)).toEqual(['EXEC']);
    expect(ownRequests(model, requests)).toHaveLength(requests.length - 2);
    expect(outcome).toHaveLength(1);
  });

  if (notAccepted.length > 0) {
    it.each(notAccepted.map(({ arg, call }) => ({ name: arg.name, call })))('$name, which GoCache does not accept, is refused before sending', async ({ name, call }) => {
      await refusedBeforeSending(() => js()[model.method]!(...call.methodArgs), `client.${model.method}() with ${name}`);
      await refusedBeforeSending(() => js().pipeline()[model.method]!(...call.methodArgs).exec(), `pipeline().${model.method}() with ${name}`);
    });
  }
});

it('covers both kinds: GoCache serves a few commands, refuses the rest, and every core command has a driver', () => {
  expect(served.map((m) => m.command)).toEqual(expect.arrayContaining(['GET', 'SET', 'DEL', 'PING', 'DBSIZE', 'PUBLISH', 'CLUSTER NODES', 'MULTI', 'EXEC', 'SUBSCRIBE']));
  expect(refused.length).toBeGreaterThan(100);
  expect(models.filter((m) => m.core !== undefined).map((m) => m.command).sort()).toEqual(Object.keys(CORE).sort());
  expect(models.flatMap((m) => (m.gocache.supported ? m.options.filter((o) => !o.gocache).map((o) => `${m.command} ${o.name}`) : []))).toContain('SET px');
});
