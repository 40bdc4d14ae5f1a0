// Hostile replies: what a broken or malicious server can send to exhaust a client's memory or CPU
// with a few bytes. The server here is a SCRIPTED PEER (a plain net.createServer in this file that
// answers any request with the bytes below), used because redis-server never sends these.
//
// Each must end in a GoCacheProtocolError naming the limit it exceeds (and the connection closed),
// or, for a declared length within the limits, leave the client waiting with bounded memory. Memory
// is measured as the process's RSS and arrayBuffers (Buffers live outside the V8 heap): before (after
// a full GC) and at the peak, sampled every millisecond and once more when the outcome is known. RSS is
// noisy (the allocator keeps freed pages, other work in this worker), so the bound is wide: the old
// parser reserved 512 MiB for the `$536870912` header and took 580 MB for the nested `*1`.
// The hostile payloads are built before the baseline, so their own size is not counted.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { GoCacheClient, GoCacheConnectionError, GoCacheProtocolError } from '../../src/index.js';
import { within } from '../../testkit/promises.js';
import { currentConnection, gc, MB, mb, report, sleep } from './helpers.js';

// Each wait inside a test is bounded (at most 20 s) and fails with its own message; the tests'
// timeout sits above them.
vi.setConfig({ testTimeout: 60_000 });

/** The scripted peer: on the first bytes of each connection, writes `chunks` (each its own write). */
async function scriptedPeer(chunks: readonly Buffer[], then: 'hold' | 'close'): Promise<{ port: number; closed: Promise<void>; sockets: Socket[]; server: Server }> {
  const sockets: Socket[] = [];
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {}); // the client closes mid-write: EPIPE / ECONNRESET are expected
    socket.once('close', () => resolveClosed());
    socket.once('data', () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
      }
      if (then === 'close') socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, closed, sockets, server };
}

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

/** Samples RSS and arrayBuffers every millisecond until stopped; returns the peaks. */
function sampler(): { stop(): { rss: number; arrayBuffers: number } } {
  let rss = 0;
  let arrayBuffers = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    arrayBuffers = Math.max(arrayBuffers, m.arrayBuffers);
  };
  sample();
  const timer = setInterval(sample, 1);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return { rss, arrayBuffers };
    },
  };
}

interface Case {
  name: string;
  chunks: () => Buffer[];
  /** The limit named in the protocol error, or undefined when the reply is within the limits. */
  limit: RegExp | undefined;
}

const nestedOnes = (): Buffer[] => {
  // `*1\r\n` 4,000,000 times: 16 MB, in 1 MiB writes.
  const all = Buffer.alloc(4 * 4_000_000);
  for (let i = 0; i < all.length; i += 4) all.write('*1\r\n', i, 'latin1');
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += MB) chunks.push(all.subarray(i, i + MB));
  return chunks;
};
const bareLfLine = (): Buffer[] => {
  // A 16 MiB simple-string line with no CR, a bare LF in every 16 KiB chunk.
  const chunk = Buffer.alloc(16 * 1024, 'a');
  chunk[chunk.length - 1] = 0x0a;
  return [Buffer.from('+'), ...Array.from({ length: 1024 }, () => chunk)];
};

const CASES: Case[] = [
  { name: '`$536870912` (512 MiB declared, within the limit) and 3 bytes, then silence', chunks: () => [Buffer.from('$536870912\r\nabc')], limit: undefined },
  { name: '`$536870913` (one byte past 512 MiB) and 3 bytes', chunks: () => [Buffer.from('$536870913\r\nabc')], limit: /maxBulkLength 536870912/ },
  { name: '`*1` nested 4,000,000 times (16 MB)', chunks: nestedOnes, limit: /maxDepth 128/ },
  { name: 'an array header of 2^31-1 elements', chunks: () => [Buffer.from(`*${2 ** 31 - 1}\r\n$1\r\na\r\n`)], limit: /maxAggregateLength 16777216/ },
  { name: 'a 16 MiB line of bare-LF chunks', chunks: bareLfLine, limit: /maxLineLength 65536/ },
];

describe('hostile replies from a scripted peer', () => {
  it.each(CASES)('$name', async ({ name, chunks, limit }) => {
    const payload = chunks();
    const total = payload.reduce((sum, c) => sum + c.length, 0);
    const peer = await scriptedPeer(payload, 'hold');
    servers.push(peer.server);
    const client = await GoCacheClient.connect({ host: '127.0.0.1', port: peer.port, reconnect: false });
    try {
      const socket = currentConnection(client).socket;
      gc();
      const before = process.memoryUsage();
      const peak = sampler();
      const started = performance.now();
      const reply = client.get('k').then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error, at: performance.now() }),
      );
      let outcome: Awaited<typeof reply>;
      let growth: { rss: number; arrayBuffers: number };
      if (limit === undefined) {
        // Within the limits: the client waits for the rest; memory once it has read every byte sent.
        const deadline = Date.now() + 10_000;
        while (socket.bytesRead < total && Date.now() < deadline) await sleep(2);
        expect(socket.bytesRead).toBe(total);
        await sleep(20);
        const at = peak.stop();
        peer.sockets[0]!.destroy();
        outcome = await within(reply, 10_000, 'the reply after the peer closed');
        expect(outcome.ok).toBe(false);
        expect((outcome as { error: unknown }).error).toBeInstanceOf(GoCacheConnectionError);
        growth = reportGrowth(name, before, at, `the command waited, then rejected with GoCacheConnectionError when the peer closed`);
      } else {
        outcome = await within(reply, 15_000, 'the protocol error');
        const at = peak.stop();
        expect(outcome.ok).toBe(false);
        const error = (outcome as { error: unknown }).error;
        expect(error).toBeInstanceOf(GoCacheProtocolError);
        expect((error as Error).message).toMatch(limit);
        // The connection is closed: the peer sees it go.
        await within(peer.closed, 10_000, 'the connection closing');
        growth = reportGrowth(name, before, at, `GoCacheProtocolError after ${((outcome as { at: number }).at - started).toFixed(0)} ms: ${(error as Error).message}`);
      }
      // The old parser: +512 MiB of arrayBuffers for the first case, ~580 MB for the nested `*1`.
      expect(growth.arrayBuffers).toBeLessThan(32 * MB);
      expect(growth.rss).toBeLessThan(100 * MB);
    } finally {
      client.disconnect();
    }
  });
});

/** Prints and returns the growth from `before` to `peak`. */
function reportGrowth(name: string, before: NodeJS.MemoryUsage, peak: { rss: number; arrayBuffers: number }, outcome: string): { rss: number; arrayBuffers: number } {
  const growth = { rss: peak.rss - before.rss, arrayBuffers: peak.arrayBuffers - before.arrayBuffers };
  const kb = (bytes: number): string => `${Math.round(bytes / 1024).toLocaleString('en')} KiB`;
  report(`hostile reply ${name}: peak RSS +${kb(growth.rss)} (${mb(before.rss)} before), arrayBuffers +${kb(growth.arrayBuffers)}; ${outcome}`);
  return growth;
}
