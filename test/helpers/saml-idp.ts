/**
 * @module A SAML 2.0 identity provider built in the test: it reads our AuthnRequest from the HTTP-Redirect URL
 * and answers with a Response whose assertion it signs with xml-crypto (the version node-saml verifies with),
 * RSA-SHA256, exclusive C14N, the signature placed after the assertion's Issuer (SAML core §5.4.1); and it signs
 * LogoutRequests for single logout. Options let a test forge, expire or misaddress what it sends.
 */
import { createSign, randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import selfsigned from 'selfsigned';
import { SignedXml } from 'xml-crypto';

export interface TestSamlIdp {
  entityId: string;
  ssoUrl: string;
  /** The signing certificate (PEM), for the provider's `saml_idp_certs`. */
  certPem: string;
  privateKeyPem: string;
}

export async function createSamlIdp(): Promise<TestSamlIdp> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'test-idp' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
  });
  return {
    entityId: 'https://idp.example.test/saml',
    ssoUrl: 'https://idp.example.test/saml/sso',
    certPem: pems.cert,
    privateKeyPem: pems.private,
  };
}

/** The ID and ACS URL of the AuthnRequest in an HTTP-Redirect URL. */
export function readAuthnRequest(redirect: string): { id: string; acsUrl: string; issuer: string } {
  const request = new URL(redirect).searchParams.get('SAMLRequest');
  if (!request) throw new Error('no SAMLRequest in the redirect');
  const xml = inflateRawSync(Buffer.from(request, 'base64')).toString('utf8');
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  const acsUrl = /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)?.[1];
  const issuer = /<saml:Issuer[^>]*>([^<]+)</.exec(xml)?.[1];
  if (!id || !acsUrl || !issuer) throw new Error(`unexpected AuthnRequest: ${xml}`);
  return { id, acsUrl, issuer };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

function sign(xml: string, privateKeyPem: string, certPem: string, element: 'Assertion' | 'LogoutRequest'): string {
  const signer = new SignedXml({
    privateKey: privateKeyPem,
    publicCert: certPem,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  });
  signer.addReference({
    xpath: `//*[local-name(.)='${element}']`,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, {
    location: { reference: `//*[local-name(.)='${element}']/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signer.getSignedXml();
}

export interface ResponseOptions {
  inResponseTo: string;
  acsUrl: string;
  audience: string;
  nameId: string;
  sessionIndex: string;
  attributes?: Record<string, string[]>;
  /** Sign with this key instead of the IdP's (a forgery). */
  signingKeyPem?: string;
  /** Shift the validity window (negative: already expired). */
  validForMs?: number;
  unsigned?: boolean;
}

/** A base64 `SAMLResponse` for the HTTP-POST binding. */
export function samlResponse(idp: TestSamlIdp, o: ResponseOptions): string {
  const now = Date.now();
  const until = now + (o.validForMs ?? 5 * 60_000);
  const notBefore = Math.min(now - 60_000, until - 120_000);
  const attributes = Object.entries(o.attributes ?? {})
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${escapeXml(name)}">${values.map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
    )
    .join('');
  const assertion =
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a${randomUUID()}" Version="2.0" IssueInstant="${iso(now)}">` +
    `<saml:Issuer>${idp.entityId}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${escapeXml(o.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${o.inResponseTo}" NotOnOrAfter="${iso(until)}" Recipient="${escapeXml(o.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(until)}"><saml:AudienceRestriction><saml:Audience>${escapeXml(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="${escapeXml(o.sessionIndex)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion>`;
  const response =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomUUID()}" Version="2.0" IssueInstant="${iso(now)}" Destination="${escapeXml(o.acsUrl)}" InResponseTo="${o.inResponseTo}">` +
    `<saml:Issuer>${idp.entityId}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    assertion +
    `</samlp:Response>`;
  const xml = o.unsigned ? response : sign(response, o.signingKeyPem ?? idp.privateKeyPem, idp.certPem, 'Assertion');
  return Buffer.from(xml).toString('base64');
}

/** A base64 signed LogoutRequest for the HTTP-POST binding. */
export function samlLogoutRequest(
  idp: TestSamlIdp,
  o: { destination: string; nameId: string; sessionIndex: string; unsigned?: boolean },
): string {
  const xml =
    `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l${randomUUID()}" Version="2.0" IssueInstant="${iso(Date.now())}" Destination="${escapeXml(o.destination)}">` +
    `<saml:Issuer>${idp.entityId}</saml:Issuer>` +
    `<saml:NameID>${escapeXml(o.nameId)}</saml:NameID>` +
    `<samlp:SessionIndex>${escapeXml(o.sessionIndex)}</samlp:SessionIndex>` +
    `</samlp:LogoutRequest>`;
  return Buffer.from(o.unsigned ? xml : sign(xml, idp.privateKeyPem, idp.certPem, 'LogoutRequest')).toString('base64');
}

/**
 * The query of a LogoutRequest for the HTTP-Redirect binding (SAML Bindings §3.4.4.1): deflated and base64, signed
 * with RSA-SHA256 over `SAMLRequest=…&SigAlg=…` unless `unsigned`.
 */
export function samlRedirectLogoutQuery(
  idp: TestSamlIdp,
  o: { destination: string; nameId: string; sessionIndex: string; unsigned?: boolean },
): string {
  const xml = Buffer.from(samlLogoutRequest(idp, { ...o, unsigned: true }), 'base64');
  const request = `SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}`;
  if (o.unsigned) return request;
  const signed = `${request}&SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}`;
  const signature = createSign('RSA-SHA256').update(signed).sign(idp.privateKeyPem, 'base64');
  return `${signed}&Signature=${encodeURIComponent(signature)}`;
}
