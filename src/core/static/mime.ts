/**
 * Content-Type by file extension: a built-in table (no package), looked up once per request by the lower-cased
 * extension. Text types carry `charset=utf-8`. Unknown extensions are `application/octet-stream`: the handler
 * never sniffs content (that would mean reading the file before answering), see docs/compatibility.md.
 */
const Text = (type: string) => `${type}; charset=utf-8`;

const Table: Readonly<Record<string, string>> = {
  html: Text('text/html'),
  htm: Text('text/html'),
  css: Text('text/css'),
  js: Text('text/javascript'),
  mjs: Text('text/javascript'),
  cjs: Text('text/javascript'),
  json: Text('application/json'),
  map: Text('application/json'),
  webmanifest: Text('application/manifest+json'),
  jsonld: Text('application/ld+json'),
  xml: Text('text/xml'),
  txt: Text('text/plain'),
  text: Text('text/plain'),
  log: Text('text/plain'),
  md: Text('text/markdown'),
  csv: Text('text/csv'),
  tsv: Text('text/tab-separated-values'),
  ics: Text('text/calendar'),
  vtt: Text('text/vtt'),
  yaml: Text('application/yaml'),
  yml: Text('application/yaml'),
  svg: Text('image/svg+xml'),
  rss: Text('application/rss+xml'),
  atom: Text('application/atom+xml'),
  xhtml: Text('application/xhtml+xml'),
  png: 'image/png',
  apng: 'image/apng',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/vnd.microsoft.icon',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  wav: 'audio/wav',
  weba: 'audio/webm',
  flac: 'audio/flac',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
  mpeg: 'video/mpeg',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  br: 'application/octet-stream',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  wasm: 'application/wasm',
  bin: 'application/octet-stream',
  exe: 'application/octet-stream',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  epub: 'application/epub+zip',
  rtf: 'application/rtf',
  pem: 'application/x-pem-file',
  crt: 'application/x-x509-ca-cert',
};

export const DefaultContentType = 'application/octet-stream';

/** The Content-Type of a file name (the last path segment), by its extension. */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || dot === name.length - 1) return DefaultContentType;
  const ext = name.slice(dot + 1).toLowerCase();
  return Object.hasOwn(Table, ext) ? Table[ext]! : DefaultContentType;
}
