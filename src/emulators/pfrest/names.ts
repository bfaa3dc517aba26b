/**
 * @module pfSense address predicates the alias model relies on (docs/reference/pfrest-contract.md §8): `is_ipaddr`, `is_fqdn`,
 * `is_subnet`, `is_port`, `is_portrange`, and the box's protocol and service databases (getprotobyname,
 * getservbyname) that `is_port` and the alias-name rules read.
 *
 * The databases are FreeBSD's, as on pfSense (docs/reference/pfrest-emulator.md §2): every protocol of
 * freebsd/freebsd-src `lib/libc/net/protocols` (commit 9110719c) with its aliases, and the service names and
 * aliases of `usr.sbin/services_mkdb/services` (commit 1b1334b1) for ports 1–212 plus a selection of higher ones
 * (each checked against that file). A subset of the services file: enough for the well-known names an operator
 * might pick as an alias name.
 */
import ipaddr from 'ipaddr.js';

// biome-ignore format: a word table reads better packed
const SERVICES = `tcpmux compressnet rje echo discard sink null systat users daytime qotd quote msp chargen ttytst
 source ftp-data ftp ssh telnet smtp mail nsw-fe msg-icp msg-auth dsp time timserver rap rlp resource graphics
 nameserver name nicname whois mpm-flags mpm mpm-snd ni-ftp auditd tacacs re-mail-ck la-maint xns-time domain
 xns-ch isi-gl xns-auth xns-mail acas whoispp covia tacacs-ds sql-net bootps dhcps bootpc dhcpc tftp gopher
 netrjs-1 netrjs-2 netrjs-3 netrjs-4 deos vettcp finger http www www-http xfer mit-ml-dev ctf mfcobol
 kerberos-sec kerberos su-mit-tg dnsix mit-dov npp dcp objcall supdup dixie swift-rvf tacnews metagram newacct
 hostname hostnames iso-tsap tsap gppitnp acr-nema csnet-ns cso-ns cso pop3pw 3com-tsmux rtelnet snagas pop2
 postoffice pop3 sunrpc rpcbind mcidas auth ident tap sftp ansanotify uucp-path sqlserv nntp usenet cfdptkt erpc
 smakynet ntp ansatrader locus-map nxedit locus-con gss-xlicen pwdgen cisco-fna cisco-tna cisco-sys statsrv
 ingres-net epmap profile netbios-ns netbios-dgm netbios-ssn emfis-data emfis-cntl bl-idm imap imap2 imap4 uma
 uaac iso-tp0 iso-ip jargon aed-512 hems bftp sgmp netsc-prod netsc-dev sqlsrv knet-cmp pcmail-srv nss-routing
 sgmp-traps snmp snmptrap snmp-trap cmip-man cmip-agent smip-agent xns-courier s-net namp rsvd send print-srv
 multiplex xyplex-mux mailq vmnet genrad-mux xdmcp nextstep bgp ris unify audit ocbinder ocserver remote-kis kis
 aci mumps qft gacp cacp prospero osu-nms srmp irc dn6-nlm-aud dn6-smm-red dls dls-mon smux src at-rtmp at-nbp
 at-3 at-echo at-5 at-zis at-7 at-8 qmtp z39-50 wais 914c-g anet
 ldap https microsoft-ds kpasswd isakmp syslog printer submission ldaps rsync ftps imaps pop3s socks openvpn
 radius radacct nfsd nfs pptp l2tp mysql postgresql rdp sip sip-tls xmpp-client xmpp-server http-alt`;
const SERVICE_NAMES: ReadonlySet<string> = new Set(SERVICES.split(/\s+/).filter(Boolean));

// biome-ignore format: a word table reads better packed
const PROTOCOLS = `ip IP icmp ICMP igmp IGMP ggp GGP ipencap IP-ENCAP st2 ST2 tcp TCP cbt CBT egp EGP igp IGP bbn-rcc
 BBN-RCC-MON nvp NVP-II pup PUP argus ARGUS emcon EMCON xnet XNET chaos CHAOS udp UDP mux MUX dcn DCN-MEAS hmp HMP
 prm PRM xns-idp XNS-IDP trunk-1 TRUNK-1 trunk-2 TRUNK-2 leaf-1 LEAF-1 leaf-2 LEAF-2 rdp RDP irtp IRTP iso-tp4
 ISO-TP4 netblt NETBLT mfe-nsp MFE-NSP merit-inp MERIT-INP dccp DCCP 3pc 3PC idpr IDPR xtp XTP ddp DDP idpr-cmtp
 IDPR-CMTP tp++ TP++ il IL ipv6 IPV6 sdrp SDRP ipv6-route IPV6-ROUTE ipv6-frag IPV6-FRAG idrp IDRP rsvp RSVP gre
 GRE dsr DSR bna BNA esp ESP ah AH i-nlsp I-NLSP swipe SWIPE narp NARP mobile MOBILE tlsp TLSP skip SKIP ipv6-icmp
 IPV6-ICMP icmp6 ipv6-nonxt IPV6-NONXT ipv6-opts IPV6-OPTS cftp CFTP sat-expak SAT-EXPAK kryptolan KRYPTOLAN rvd
 RVD ippc IPPC sat-mon SAT-MON visa VISA ipcv IPCV cpnx CPNX cphb CPHB wsn WSN pvp PVP br-sat-mon BR-SAT-MON sun-nd
 SUN-ND wb-mon WB-MON wb-expak WB-EXPAK iso-ip ISO-IP vmtp VMTP secure-vmtp SECURE-VMTP vines VINES ttp TTP
 nsfnet-igp NSFNET-IGP dgp DGP tcf TCF eigrp EIGRP ospf OSPFIGP sprite-rpc Sprite-RPC larp LARP mtp MTP ax.25
 AX.25 ipip IPIP micp MICP scc-sp SCC-SP etherip ETHERIP encap ENCAP gmtp GMTP ifmp IFMP pnni PNNI pim PIM aris
 ARIS scps SCPS qnx QNX a/n A/N ipcomp IPComp snp SNP compaq-peer Compaq-Peer ipx-in-ip IPX-in-IP carp CARP vrrp
 pgm PGM l2tp L2TP ddx DDX iatp IATP stp STP srp SRP uti UTI smp SMP sm SM ptp PTP isis ISIS fire FIRE crtp CRTP
 crudp CRUDP sscopmce SSCOPMCE iplt IPLT sps SPS pipe PIPE sctp SCTP fc FC rsvp-e2e-ignore RSVP-E2E-IGNORE
 mobility-header Mobility-Header udplite UDPLite mpls-in-ip MPLS-IN-IP manet MANET hip HIP shim6 SHIM6 wesp WESP
 rohc ROHC pfsync PFSYNC divert DIVERT`;
const PROTOCOL_NAMES: ReadonlySet<string> = new Set(PROTOCOLS.split(/\s+/).filter(Boolean));

/** getprotobyname: a protocol name or alias (case-sensitive, as in libc). */
export function isProtocolName(name: string): boolean {
  return PROTOCOL_NAMES.has(name);
}

/** getservbyname for tcp/udp (case-sensitive, as in libc). */
export function isServiceName(name: string): boolean {
  return SERVICE_NAMES.has(name);
}

export function isIpv4(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

export function isIpv6(value: string): boolean {
  const [address, scope] = value.split('%');
  if (address === undefined || !/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':')) return false;
  if (!ipaddr.IPv6.isValid(address)) return false;
  // A %scope is only meaningful on link-local addresses.
  return scope === undefined || (scope !== '' && ipaddr.IPv6.parse(address).range() === 'linkLocal');
}

/** `is_ipaddr`: IPv4 or IPv6 without a prefix. */
export function isIpAddr(value: string): boolean {
  return isIpv4(value) || isIpv6(value);
}

/** `is_subnet`: v4 `/0-32`, v6 `/0-128`. */
export function isSubnet(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  const prefix = Number(bits);
  if (isIpv4(address)) return prefix <= 32;
  return !address.includes('%') && isIpv6(address) && prefix <= 128;
}

const LABEL = /^(?:[a-z0-9_]|[a-z0-9_][a-z0-9_-]*[a-z0-9_])$/i;

/** `is_fqdn`: at least two labels, the last made of letters. */
export function isFqdn(value: string): boolean {
  const labels = value.split('.');
  if (labels.length < 2 || value.length > 255) return false;
  return (
    labels.every((l) => l.length <= 63 && LABEL.test(l)) && /^[a-z]+$/i.test(labels[labels.length - 1] ?? '')
  );
}

/** `is_port`: 1–65535 in digits, or a known service name. */
export function isPort(value: string): boolean {
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    return n >= 1 && n <= 65535;
  }
  return isServiceName(value);
}

/** `is_portrange`: `low:high` with a colon. */
export function isPortRange(value: string): boolean {
  const parts = value.split(':');
  return parts.length === 2 && parts.every((p) => /^[0-9]+$/.test(p) && isPort(p));
}
