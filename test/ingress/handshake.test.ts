/**
 * The activation handshake (GatewayHandshake) against real HTTP servers on loopback standing for
 * what can be behind a route: a token-checking gateway, the ALB's default 404, the maintenance
 * page, a gateway that accepts any token. Only the first passes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayHandshake } from '../../functions/adapters/ingress-sdk';

const TOKEN = 'tenant-token-0123456789abcdef';
type Answer = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer(answer: Answer, run: (origin: string, seen: IncomingMessage[]) => Promise<void>): Promise<void> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    answer(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const gateway: Answer = (req, res) =>
  req.headers.authorization === `Bearer ${TOKEN}` ? json(res, 404, { ok: false, error: { type: 'not_found' } }) : json(res, 401, { ok: false, error: { type: 'unauthorized' } });

const probe = (origin: string) => new GatewayHandshake(() => Promise.resolve(TOKEN), undefined, origin, { budgetMs: 0, pauseMs: 0 });
const input = { url: 'https://acme.cell-1.example.com/', headers: { 'x-octw-staging': 'stg_0123456789abcdef' }, tenantId: 'acme' };

describe('the authenticated handshake through a route', () => {
  it("passes against a gateway that refuses a wrong token and takes the tenant's, sending the tenant host and the staging header", async () => {
    await withServer(gateway, async (origin, seen) => {
      expect(await probe(origin).handshake(input)).toMatchObject({ ok: true });
      expect(seen.map((r) => r.headers.host)).toEqual(['acme.cell-1.example.com', 'acme.cell-1.example.com']);
      expect(seen.every((r) => r.headers['x-octw-staging'] === 'stg_0123456789abcdef')).toBe(true);
      expect(seen[0]!.headers.authorization).not.toBe(`Bearer ${TOKEN}`);
    });
  });

  it("fails on the ALB's default 404 (the route does not match), the maintenance 503, and a gateway that takes any token", async () => {
    const text = (status: number, body: string): Answer => (_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    await withServer(text(404, 'Not found'), async (origin) => expect(await probe(origin).handshake(input)).toMatchObject({ ok: false, detail: expect.stringMatching(/not 401/) }));
    await withServer(text(503, 'paused'), async (origin) => expect(await probe(origin).handshake(input)).toMatchObject({ ok: false }));
    await withServer((_req, res) => json(res, 404, { ok: false }), async (origin) => expect(await probe(origin).handshake(input)).toMatchObject({ ok: false, detail: expect.stringMatching(/not 401/) }));
  });

  it("fails when the gateway refuses the tenant's token", async () => {
    await withServer((_req, res) => json(res, 401, { ok: false }), async (origin) => {
      const other = new GatewayHandshake(() => Promise.resolve(TOKEN), undefined, origin, { budgetMs: 0, pauseMs: 0 });
      expect(await other.handshake(input)).toMatchObject({ ok: false, detail: expect.stringMatching(/not 401|refused/) });
    });
  });

  it('fails, not throws, when nothing answers', async () => {
    expect(await probe('http://127.0.0.1:1').handshake(input)).toMatchObject({ ok: false, detail: expect.stringMatching(/no answer/) });
  });

  it('keeps asking while the ingress tier has not settled (503 of a target not yet healthy), within its real-time budget, then passes', async () => {
    let unsettled = 3;
    await withServer(
      (req, res) => {
        if (unsettled > 0) {
          unsettled--;
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('Service Unavailable');
          return;
        }
        gateway(req, res);
      },
      async (origin, seen) => {
        const patient = new GatewayHandshake(() => Promise.resolve(TOKEN), undefined, origin, { budgetMs: 5000, pauseMs: 10 });
        expect(await patient.handshake(input)).toMatchObject({ ok: true });
        expect(seen).toHaveLength(5);
      },
    );
  });

  it('gives up when the budget is spent, saying how often it asked; a 401 refusal of the tenant token is never retried', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Service Unavailable');
      },
      async (origin, seen) => {
        const patient = new GatewayHandshake(() => Promise.resolve(TOKEN), undefined, origin, { budgetMs: 200, pauseMs: 20 });
        const r = await patient.handshake(input);
        expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/a wrong token got 503, not 401 \(\d+ attempts over 0 s\)/) });
        expect(seen.length).toBeGreaterThan(2);
      },
    );
    await withServer(
      (_req, res) => json(res, 401, { ok: false }),
      async (origin, seen) => {
        const patient = new GatewayHandshake(() => Promise.resolve(TOKEN), undefined, origin, { budgetMs: 5000, pauseMs: 10 });
        expect(await patient.handshake(input)).toMatchObject({ ok: false, detail: expect.stringMatching(/refused \(401\)/) });
        expect(seen).toHaveLength(2);
      },
    );
  });
});
