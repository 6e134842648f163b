// A real OpenID Provider (node's `oidc-provider`) for Portico's OIDC tests, on loopback.
//
// Environment:
//   OIDC_MODULES   the node_modules dir holding oidc-provider (e.g. target/oidc/node_modules)
//   PORT           port to listen on (127.0.0.1)
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma separated)
// Prints "ready <issuer>" on stdout once listening.
//
// There is no login form: the interaction page signs in the person named by its query
// (`?email=…&verified=1|0&tamper=none|nonce|expired`, optionally `&subject=…`), so a test drives the whole flow with
// plain HTTP. `tamper` makes the token endpoint hand out an id_token re-signed with the
// provider's own key but a wrong nonce or a past expiry: what a broken or hostile provider
// (or a replayed old token) would look like to the relying party.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';

const modules = process.env.OIDC_MODULES;
if (!modules) {
  console.error('OIDC_MODULES is not set');
  process.exit(2);
}
const { default: Provider } = await import(path.join(modules, 'oidc-provider', 'lib', 'index.js'));

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `k-${crypto.randomUUID()}`, use: 'sig', alg: 'RS256' };

// accountId = "<v|u>:<tamper>:<email>", or "<v|u>:<tamper>:subject=<subject>" for a fixed
// subject whose email is whatever the last sign-in with it said (a person whose address changed
// at the provider keeps their subject).
const emailOf = new Map();
function parseAccount(id) {
  const [v, tamper, ...rest] = id.split(':');
  const tail = rest.join(':');
  const email = tail.startsWith('subject=') ? (emailOf.get(tail) || 'nobody@example.invalid') : tail;
  return { verified: v === 'v', tamper, email };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID || 'portico',
    client_secret: process.env.CLIENT_SECRET || 'portico-secret',
    redirect_uris: (process.env.REDIRECT_URIS || '').split(',').filter(Boolean),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Claims in the id_token itself, as Google and Entra do for the code flow.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const a = parseAccount(id);
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: a.email, email_verified: a.verified, name: a.email.split('@')[0] };
      },
    };
  },
  // Consent is implied: Portico is a first-party client here.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

function b64(buf) {
  return Buffer.from(buf).toString('base64url');
}

function resign(idToken, change) {
  const [h, p] = idToken.split('.');
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...change };
  const input = `${h}.${b64(JSON.stringify(payload))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), privateKey);
  return `${input}.${b64(sig)}`;
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.body && typeof ctx.body.id_token === 'string') {
    const payload = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[1], 'base64url').toString());
    const { tamper } = parseAccount(String(payload.sub));
    const now = Math.floor(Date.now() / 1000);
    if (tamper === 'nonce') ctx.body.id_token = resign(ctx.body.id_token, { nonce: 'not-the-nonce' });
    if (tamper === 'expired') ctx.body.id_token = resign(ctx.body.id_token, { iat: now - 7200, exp: now - 3600 });
  }
});

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (!url.pathname.startsWith('/interaction/')) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const email = url.searchParams.get('email') || 'nobody@example.invalid';
    const verified = url.searchParams.get('verified') !== '0';
    const tamper = url.searchParams.get('tamper') || 'none';
    const subject = url.searchParams.get('subject');
    if (subject) emailOf.set(`subject=${subject}`, email);
    const accountId = `${verified ? 'v' : 'u'}:${tamper}:${subject ? `subject=${subject}` : email}`;
    const result = details.prompt.name === 'login' ? { login: { accountId } } : {};
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
