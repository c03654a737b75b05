// Signs a JWT's header and claims again with a fresh RSA key that no JWKS publishes, under a new
// `kid`: the token an attacker could make. Usage: node resign.mjs <JWT>; prints the new JWT.
import { generateKeyPairSync, sign } from 'node:crypto';

const [header, claims] = process.argv[2].split('.');
const decoded = JSON.parse(Buffer.from(header, 'base64url'));
const forged = Buffer.from(JSON.stringify({ ...decoded, kid: 'not-published' })).toString('base64url');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const input = `${forged}.${claims}`;
const signature = sign('sha256', Buffer.from(input), privateKey).toString('base64url');
console.log(`${input}.${signature}`);
