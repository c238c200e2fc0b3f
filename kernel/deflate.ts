import { createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync, constants, type DeflateRaw, type InflateRaw } from 'node:zlib';

/**
 * What this module drives of a zlib stream: node:zlib's own internals, the
 * ones its deflateRawSync drives (processChunkSync in lib/zlib.js of Node 24),
 * not its public API. There is no public way to use one zlib state
 * synchronously more than once: deflateRawSync opens a stream, and with it a
 * native state of about 300 KB, for each call. Checked on each stream opened;
 * should a Node release change them, every call goes the one-shot way
 * (correct, only dearer) and test/unit/deflate.test.ts fails.
 */
interface Handle {
  /** runs zlib at once; what is left of the output and the input goes into the stream's _writeState */
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
  /** deflateReset/inflateReset, and the dictionary set again */
  reset(): void;
}

interface Engine {
  /** null once the stream is closed, as it is on a zlib error */
  readonly _handle: Handle | null;
  /** [output bytes left, input bytes left] after a writeSync */
  readonly _writeState: Uint32Array;
}

function isEngine(stream: object): stream is object & Engine {
  const { _handle: handle, _writeState: state } = stream as Partial<Record<'_handle' | '_writeState', unknown>>;
  if (typeof handle !== 'object' || handle === null || !(state instanceof Uint32Array) || state.length < 2) return false;
  const { writeSync, reset } = handle as Partial<Record<'writeSync' | 'reset', unknown>>;
  return typeof writeSync === 'function' && typeof reset === 'function';
}

/** Where every stream writes, before what it wrote is copied out: calls are synchronous, one at a time. */
const scratch = Buffer.allocUnsafeSlow(16 * 1024);

/**
 * One zlib stream kept open for the life of the process and reset after each
 * payload. deflateRawSync opens one a call: a native state of about 300 KB
 * allocated and freed, and a stream object and a 16 KB output buffer left to
 * V8's garbage collector. For payloads of a few hundred bytes that cost the api
 * about 55 MB of RSS under load (bench, 2,000 messages a second), which malloc
 * did not give back (nor with MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_);
 * reused, RSS stays flat, and a deflate takes about half the CPU, an inflate a
 * quarter (3 December 2026, a loop of 50,000 bodies and traces).
 */
class ReusedStream {
  readonly #open: () => DeflateRaw | InflateRaw;
  readonly #oneShot: (input: Uint8Array) => Buffer;
  #stream: (DeflateRaw | InflateRaw) & Engine | undefined;
  #internalsMissing = false;
  /** streams opened so far: one for the life of the process, unless one failed or the internals were missing (then none) */
  opened = 0;

  constructor(open: () => DeflateRaw | InflateRaw, oneShot: (input: Uint8Array) => Buffer) {
    this.#open = open;
    this.#oneShot = oneShot;
  }

  run(input: Uint8Array): Buffer {
    const stream = this.#stream ?? this.#openStream();
    if (stream === undefined) return this.#oneShot(input);
    try {
      return this.#runOn(stream, input);
    } catch {
      // a zlib error has closed the stream (corrupt input, most likely): the
      // one-shot call throws node:zlib's own error for it, or, should the
      // fault have been the stream's, does the work
      this.#stream = undefined;
      stream.destroy();
      return this.#oneShot(input);
    }
  }

  #openStream(): (DeflateRaw | InflateRaw) & Engine | undefined {
    if (this.#internalsMissing) return undefined;
    const stream = this.#open();
    // a zlib error destroys the stream, which then emits it: here it is thrown instead (run)
    stream.on('error', () => {});
    if (!isEngine(stream)) {
      this.#internalsMissing = true;
      stream.destroy();
      return undefined;
    }
    this.opened += 1;
    this.#stream = stream;
    return stream;
  }

  #runOn(stream: Engine, input: Uint8Array): Buffer {
    const handle = stream._handle;
    if (handle === null) throw new Error('zlib stream closed');
    const parts: Buffer[] = [];
    let inOffset = 0;
    let inLeft = input.byteLength;
    for (;;) {
      handle.writeSync(constants.Z_FINISH, input, inOffset, inLeft, scratch, 0, scratch.length);
      if (stream._handle !== handle) throw new Error('zlib error');
      const [outLeft = 0, inLeftAfter = 0] = stream._writeState;
      parts.push(Buffer.from(scratch.subarray(0, scratch.length - outLeft)));
      inOffset += inLeft - inLeftAfter;
      inLeft = inLeftAfter;
      // output to spare: the stream has ended (input after its end is ignored, as inflateRawSync does)
      if (outLeft !== 0) break;
    }
    handle.reset();
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
  }
}

/**
 * Raw deflate with a preset dictionary, the format of deflateRawSync and
 * inflateRawSync with `{ dictionary }`: what either wrote, the other reads.
 * One native state each way for the life of the instance (about 300 KB to
 * deflate, 40 KB to inflate), opened on first use: make one per dictionary,
 * once.
 */
export class RawDeflate {
  readonly #deflater: ReusedStream;
  readonly #inflater: ReusedStream;

  constructor(dictionary: Buffer) {
    this.#deflater = new ReusedStream(
      () => createDeflateRaw({ dictionary }),
      (input) => deflateRawSync(input, { dictionary }),
    );
    this.#inflater = new ReusedStream(
      () => createInflateRaw({ dictionary }),
      (input) => inflateRawSync(input, { dictionary }),
    );
  }

  deflate(input: string | Uint8Array): Buffer {
    return this.#deflater.run(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  }

  /** Throws node:zlib's error when `input` is not a whole raw deflate stream. */
  inflate(input: Uint8Array): Buffer {
    return this.#inflater.run(input);
  }

  /** Native streams opened so far, deflating and inflating: 2 at most while the state is reused as meant (the unit test's evidence). */
  get streamsOpened(): { deflate: number; inflate: number } {
    return { deflate: this.#deflater.opened, inflate: this.#inflater.opened };
  }
}
