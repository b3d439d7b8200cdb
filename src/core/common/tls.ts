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

export const TLSConfig = Obj({
  certKeyPairs: Type.Array(Obj({ certFile: Type.String(), keyFile: Type.String() }), { default: [] }),
  rootCAs: Type.Array(Type.String(), { default: [], uniqueItems: true }),
  clientCAs: Type.Array(Type.String(), { default: [], uniqueItems: true }),
  nextProtos: Type.Array(Type.String(), { default: [] }),
  serverName: Type.String({ default: '' }),
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
    },
  ),
  insecureSkipVerify: Type.Boolean({ default: false }),
  tlsCipher: Type.Array(Enum(TLSCipherNames), { default: [] }),
  sessionTicketsDisabled: Type.Boolean({ default: false }),
  minVersion: Type.Integer({ ...TLSVersion, default: 0 }),
  maxVersion: Type.Integer({ ...TLSVersion, default: 0 }),
  curvePreferences: Type.Array(Enum(['CurveP256', 'CurveP384', 'CurveP521', 'X25519']), {
    default: [],
    uniqueItems: true,
  }),
  dynamicRecordSizingDisabled: Type.Boolean({ default: false }),
  renegotiation: Enum(['RenegotiateNever', 'RenegotiateOnceAsClient', 'RenegotiateFreelyAsClient'], {
    default: 'RenegotiateNever',
  }),
});

/** Linux socket options. Node sets only a few of them; the rest are accepted and reported as unsupported. */
export const SockOption = Obj({
  soOption: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  ipOption: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  ipv6Option: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  tcpOption: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  udpOption: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const KeepAliveConfig = Obj({
  disable: Type.Boolean({ default: false }),
  idle: Type.Integer({ default: 15 }),
  interval: Type.Integer({ default: 15 }),
  count: Type.Integer({ default: 9 }),
});

export const ListenConfig = Obj(
  {
    addr: Type.String({ default: '' }),
    tlsConfig: Type.Optional(TLSConfig),
    connectionLimit: Type.Integer({ default: 0, minimum: 0 }),
    networks: Type.Array(Type.String(), { default: [], uniqueItems: true }),
    readDeadline: Type.Integer({ default: 0 }),
    writeDeadline: Type.Integer({ default: 0 }),
    keepAliveConfig: Type.Optional(KeepAliveConfig),
    sockOption: Type.Optional(SockOption),
  },
  {
    // Older AILERON releases had `network` (still in its listen-unix-socket example); current ones reject it.
    unknownFieldHints: {
      network:
        'the network is part of addr: write addr: "unix://@name", "unix:///run/gw.sock" or "tcp6://[::1]:8443"',
    },
  },
);

export const DialConfig = Obj({
  tlsConfig: Type.Optional(TLSConfig),
  localAddress: Type.String({ default: '' }),
  replaceTargets: Type.Array(Type.String(), { default: [] }),
  timeout: Type.Integer({ default: 0 }),
  fallbackDelay: Type.Integer({ default: 0 }),
  sockOption: Type.Optional(SockOption),
  keepAliveConfig: Type.Optional(KeepAliveConfig),
});

export const QuicConfig = Obj({
  versions: Type.Array(Enum(['VersionUnknown', 'Version1', 'Version2']), { default: [], uniqueItems: true }),
  handshakeIdleTimeout: Type.Integer({ default: 0 }),
  maxIdleTimeout: Type.Integer({ default: 0 }),
  keepAlivePeriod: Type.Integer({ default: 0 }),
  initialStreamReceiveWindow: Type.Integer({ default: 0 }),
  maxStreamReceiveWindow: Type.Integer({ default: 0 }),
  initialConnectionReceiveWindow: Type.Integer({ default: 0 }),
  maxConnectionReceiveWindow: Type.Integer({ default: 0 }),
  maxIncomingStreams: Type.Integer({ default: 0 }),
  maxIncomingUniStreams: Type.Integer({ default: 0 }),
  disablePathMTUDiscovery: Type.Boolean({ default: false }),
  allow0RTT: Type.Boolean({ default: false }),
  enableDatagrams: Type.Boolean({ default: false }),
});
