import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface TokenClaims {
  sub: string;
  /** Space-separated scopes, as Auth0 puts them in access tokens. */
  scope?: string;
  audience?: string;
  expiresInSeconds?: number;
  issuer?: string;
}

/**
 * A real OAuth issuer on loopback for development and tests: it publishes OIDC discovery and a JWKS and
 * signs RS256 access tokens, so the API validates them exactly as it validates Auth0's.
 * POST /oauth/token {sub, scope} hands out tokens for the local run; it exists only here, never in the API.
 */
export class LocalTokenIssuer {
  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    readonly audience: string,
    private readonly privateKey: CryptoKey,
    private readonly kid: string,
  ) {}

  static async start(options: { audience: string; port?: number }): Promise<LocalTokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = randomUUID();
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    let issuerUrl = '';
    const server = createServer((req, res) => {
      void route(req, res, { issuerUrl, jwk, issue: (claims) => self.issueToken(claims) }).catch(() => {
        sendJson(res, 500, { error: 'server_error' });
      });
    });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    issuerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    // Requests reach `self` only once the server listens, which is after this line.
    const self = new LocalTokenIssuer(server, issuerUrl, options.audience, privateKey, kid);
    return self;
  }

  /** An RS256 access token for this issuer and audience. */
  async issueToken(claims: TokenClaims): Promise<string> {
    const jwt = new SignJWT(claims.scope ? { scope: claims.scope } : {})
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuer(claims.issuer ?? this.issuer)
      .setAudience(claims.audience ?? this.audience)
      .setIssuedAt()
      .setExpirationTime(`${claims.expiresInSeconds ?? 3600}s`);
    return jwt.sign(this.privateKey);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

interface RouteContext {
  issuerUrl: string;
  jwk: JWK;
  issue(claims: TokenClaims): Promise<string>;
}

async function route(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
    return sendJson(res, 200, {
      issuer: ctx.issuerUrl,
      jwks_uri: `${ctx.issuerUrl}.well-known/jwks.json`,
      token_endpoint: `${ctx.issuerUrl}oauth/token`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
  }
  if (req.method === 'GET' && req.url === '/.well-known/jwks.json') return sendJson(res, 200, { keys: [ctx.jwk] });
  if (req.method === 'POST' && req.url === '/oauth/token') {
    const body = JSON.parse((await readBody(req)) || '{}') as { sub?: string; scope?: string };
    const expiresIn = 3600;
    const token = await ctx.issue({ sub: body.sub ?? 'dev|local-user', scope: body.scope, expiresInSeconds: expiresIn });
    return sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
  }
  sendJson(res, 404, { error: 'not_found' });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
