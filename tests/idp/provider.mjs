// A real OpenID provider for the end-to-end sign-in suite: panva's oidc-provider (OpenID
// Certified), with its development login form (any login, any password) and consent page, on
// loopback. People: `<login>@example.co.id`, verified, in the group `cs-agents` (but `outsider`);
// `admin…` logins are in `lonceng-admins` too (the admin console's group).
//
//   IDP_PORT=… IDP_REDIRECT=http://127.0.0.1:…/v1/auth/callback IDP_CLIENT_SECRET=… node provider.mjs
// prints "listening <issuer>" when it serves.

import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const names = { sari: 'Sari Dewi', budi: 'Budi Santoso' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'lonceng-server',
    client_secret: process.env.IDP_CLIENT_SECRET,
    redirect_uris: [process.env.IDP_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  // The claims of the scopes asked for go in the ID token too (Lonceng reads the ID token only).
  conformIdTokenClaims: false,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({
      sub,
      email: `${sub}@example.co.id`,
      email_verified: true,
      name: names[sub] ?? sub,
      groups: sub === 'outsider' ? [] : sub.startsWith('admin') ? ['cs-agents', 'lonceng-admins'] : ['cs-agents'],
    }),
  }),
  cookies: { keys: ['lonceng-test-idp-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
});

provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
