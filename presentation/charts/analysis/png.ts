/**
 * A minimal PNG encoder (8-bit greyscale or RGB, no filtering, zlib from node:zlib) for the small
 * pictures the analysis charts embed as data URLs: a 28x28 digit is ~300 bytes this way, where
 * drawing it as 784 Vega rect marks would make a chart of 40 digits a 5 MB SVG.
 */
import { deflateSync } from "node:zlib";

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** `samples` holds width*height*channels bytes, row-major; channels 1 = grey, 3 = RGB. */
export function encodePng(width: number, height: number, channels: 1 | 3, samples: Uint8Array): Buffer {
  if (samples.length !== width * height * channels) {
    throw new Error(`PNG ${width}x${height}x${channels} needs ${width * height * channels} samples, got ${samples.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = channels === 1 ? 0 : 2; // colour type: greyscale / truecolour
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height); // each row starts with filter type 0 (none)
  for (let y = 0; y < height; y++) raw.set(samples.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk("IHDR", header), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

export function pngDataUrl(width: number, height: number, channels: 1 | 3, samples: Uint8Array): string {
  return `data:image/png;base64,${encodePng(width, height, channels, samples).toString("base64")}`;
}
