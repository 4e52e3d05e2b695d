// A real OpenID Connect provider for the identity tests: node-oidc-provider with its own
// login and consent pages (devInteractions: any listed account id signs in, the password is not
// checked). Started and stopped by tests/oidc_provider.py; listens on 127.0.0.1 only.
//
// Configuration comes as JSON in OIDC_TEST_CONFIG:
//   {"port": 54321,
//    "clients": [{"client_id": "…", "client_secret": "…", "redirect_uris": ["…"], "code_ttl": 60}],
//    "accounts": {"taro": {"name": "…", "birthdate": "1980-04-01", "address": {"formatted": "…"}}}}
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;
const codeTtl = Object.fromEntries(
  config.clients.map((client) => [client.client_id, client.code_ttl ?? 60]),
);

// A fresh P-256 key per run (quick to make, unlike RSA); ID tokens are signed ES256.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: config.clients.map(({ client_id, client_secret, redirect_uris }) => ({
    client_id,
    client_secret,
    redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
  })),
  claims: {
    openid: ['sub'],
    profile: ['name', 'family_name', 'given_name', 'birthdate'],
    address: ['address'],
  },
  async findAccount(_ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: ['mebuku-test-only-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  ttl: {
    // Per client, so one test client can have codes that expire almost at once.
    AuthorizationCode: (_ctx, _code, client) => codeTtl[client.clientId] ?? 60,
  },
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc test provider listening at ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
