/**
 * Shared configuration types of the core kinds: TLS, listeners and dialers (AILERON's kernel TLSConfig,
 * ListenConfig, DialConfig). Field names and defaults follow AILERON.
 */
import { Enum, Obj, Type } from '../../kernel/schema.ts';
import { TLSCipherNames } from './tlsnames.ts';

export const TLSVersion = Type.Integer({
  minimum: 0,
  maximum: 65535,
  description: '769 TLS1.0, 770 TLS1.1, 771 TLS1.2, 772 TLS1.3; 0 = default',
});

export const TLSConfig = Obj(
  {
    certKeyPairs: Type.Array(
      Obj({
        certFile: Type.String({ description: 'PEM certificate file (the chain may follow the leaf)' }),
        keyFile: Type.String({ description: 'PEM private key file of the certificate (unencrypted)' }),
      }),
      {
        default: [],
        description:
          'certificates presented (a server picks one by SNI; a client presents the first for mTLS)',
      },
    ),
    rootCAs: Type.Array(Type.String(), {
      default: [],
      uniqueItems: true,
      description: 'client side: PEM files of CAs trusted in addition to the default CAs',
    }),
    clientCAs: Type.Array(Type.String(), {
      default: [],
      uniqueItems: true,
      description: 'server side: PEM files of the CAs client certificates are verified against',
    }),
    nextProtos: Type.Array(Type.String(), {
      default: [],
      description: 'server side: ALPN protocols offered',
    }),
    serverName: Type.String({
      default: '',
      description: 'client side: SNI name checked against the certificate; "" = the upstream host name',
    }),
    clientAuth: Enum(
      [
        'NoClientCert',
        'RequestClientCert',
        'RequireAnyClientCert',
        'VerifyClientCertIfGiven',
        'RequireAndVerifyClientCert',
      ],
      {
        default: 'NoClientCert',
        description: 'server side: what a client must present (the verifying modes need clientCAs)',
      },
    ),
    insecureSkipVerify: Type.Boolean({
      default: false,
      description: 'client side: true turns certificate verification off (a warning is logged)',
    }),
    tlsCipher: Type.Array(Enum(TLSCipherNames), {
      default: [],
      description: "cipher suites by Go name or number; empty = OpenSSL's defaults",
    }),
    sessionTicketsDisabled: Type.Boolean({ default: false, description: 'true: no TLS session resumption' }),
    minVersion: Type.Integer({ ...TLSVersion, default: 0 }),
    maxVersion: Type.Integer({ ...TLSVersion, default: 0 }),
    curvePreferences: Type.Array(Enum(['CurveP256', 'CurveP384', 'CurveP521', 'X25519']), {
      default: [],
      uniqueItems: true,
      description: 'key exchange groups, in order of preference; empty = defaults',
    }),
    dynamicRecordSizingDisabled: Type.Boolean({
      default: false,
      description: 'accepted; no effect (Go-specific)',
    }),
    renegotiation: Enum(['RenegotiateNever', 'RenegotiateOnceAsClient', 'RenegotiateFreelyAsClient'], {
      default: 'RenegotiateNever',
      description: 'accepted; no effect (Go-specific)',
    }),
  },
  { description: 'TLS: certificates, trusted CAs, versions, cipher suites; set = TLS is used' },
);

/** Linux socket options. Node sets only a few of them; the rest are accepted and reported as unsupported. */
const SocketOptions = (level: string) =>
  Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: `${level} options; accepted, not applied` }),
  );

export const SockOption = Obj(
  {
    soOption: SocketOptions('SOL_SOCKET'),
    ipOption: SocketOptions('IPPROTO_IP'),
    ipv6Option: SocketOptions('IPPROTO_IPV6'),
    tcpOption: SocketOptions('IPPROTO_TCP'),
    udpOption: SocketOptions('IPPROTO_UDP'),
  },
  { description: 'Linux socket options; accepted, not applied (Node cannot set them)' },
);

export const KeepAliveConfig = Obj(
  {
    disable: Type.Boolean({ default: false, description: 'true: no TCP keep-alive probes' }),
    idle: Type.Integer({ default: 15, description: 'seconds of silence before the first probe' }),
    interval: Type.Integer({ default: 15, description: 'seconds between probes' }),
    count: Type.Integer({ default: 9, description: 'unanswered probes before the connection is dropped' }),
  },
  { description: 'TCP keep-alive probes' },
);

export const ListenConfig = Obj(
  {
    addr: Type.String({
      default: '',
      description: 'listen address (host:port, unix:///path, unix://@name); "" = the server\'s addr',
    }),
    tlsConfig: Type.Optional(TLSConfig),
    connectionLimit: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'most concurrent connections; more are closed at once; 0 = no limit',
    }),
    networks: Type.Array(Type.String(), {
      default: [],
      uniqueItems: true,
      description: 'CIDR allow-list of client addresses; empty = all',
    }),
    readDeadline: Type.Integer({ default: 0, description: 'accepted; not applied' }),
    writeDeadline: Type.Integer({ default: 0, description: 'accepted; not applied' }),
    keepAliveConfig: Type.Optional(KeepAliveConfig),
    sockOption: Type.Optional(SockOption),
  },
  {
    description: 'the listening socket',
    // Older AILERON releases had `network` (still in its listen-unix-socket example); current ones reject it.
    unknownFieldHints: {
      network:
        'the network is part of addr: write addr: "unix://@name", "unix:///run/gw.sock" or "tcp6://[::1]:8443"',
    },
  },
);

export const DialConfig = Obj(
  {
    tlsConfig: Type.Optional(TLSConfig),
    localAddress: Type.String({
      default: '',
      description: 'local address of upstream connections (192.0.2.10, tcp://192.0.2.10:0); "" = any',
    }),
    replaceTargets: Type.Array(Type.String(), {
      default: [],
      description: '"(tcp|host:port) (unix|/path.sock)": connections to that address go elsewhere',
    }),
    timeout: Type.Integer({ default: 0, description: 'milliseconds to connect; 0 = no limit' }),
    fallbackDelay: Type.Integer({
      default: 0,
      description: 'Happy Eyeballs: ms before trying the other address family; 0 = 250 ms, negative = off',
    }),
    sockOption: Type.Optional(SockOption),
    keepAliveConfig: Type.Optional(KeepAliveConfig),
  },
  { description: "how upstream connections are made; its tlsConfig wins over the transport's" },
);

const QuicInteger = () => Type.Integer({ default: 0, description: 'accepted; HTTP/3 is not available' });
const QuicBoolean = () => Type.Boolean({ default: false, description: 'accepted; HTTP/3 is not available' });

/** HTTP/3 is not available (docs/http3.md): every field is accepted so that AILERON configs read. */
export const QuicConfig = Obj(
  {
    versions: Type.Array(Enum(['VersionUnknown', 'Version1', 'Version2']), {
      default: [],
      uniqueItems: true,
      description: 'accepted; HTTP/3 is not available',
    }),
    handshakeIdleTimeout: QuicInteger(),
    maxIdleTimeout: QuicInteger(),
    keepAlivePeriod: QuicInteger(),
    initialStreamReceiveWindow: QuicInteger(),
    maxStreamReceiveWindow: QuicInteger(),
    initialConnectionReceiveWindow: QuicInteger(),
    maxConnectionReceiveWindow: QuicInteger(),
    maxIncomingStreams: QuicInteger(),
    maxIncomingUniStreams: QuicInteger(),
    disablePathMTUDiscovery: QuicBoolean(),
    allow0RTT: QuicBoolean(),
    enableDatagrams: QuicBoolean(),
  },
  { description: 'QUIC settings of HTTP/3; accepted, HTTP/3 is not available (docs/http3.md)' },
);
