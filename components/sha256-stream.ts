/**
 * SHA-256 fed piece by piece (FIPS 180-4). WebCrypto only hashes a whole buffer at once, and a file
 * of several GiB cannot be held in memory: in direct mode the browser hashes the file in order, one
 * chunk at a time, to give the server the digest of bytes the app never sees.
 */

export interface Sha256Core {
  update(data: Uint8Array): void
  /** The digest as 64 lower-case hex digits; the hash cannot be fed afterwards. */
  hex(): string
}

/**
 * A new incremental SHA-256. It names nothing outside its own body, so that its source text also
 * runs as a Web Worker's (file-hash-worker.ts): the components are bundled into one file, and a
 * worker made from a Blob URL cannot import anything.
 */
export function createSha256(): Sha256Core {
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ])
  const BLOCK = 64
  const s = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])
  const w = new Uint32Array(64)
  const pending = new Uint8Array(BLOCK)
  let pendingLength = 0
  let total = 0
  let finished = false

  // One block per call: a function of its own, which V8 optimises better than one loop over all blocks.
  function block(view: DataView, p: number): void {
    for (let i = 0; i < 16; i += 1) w[i] = view.getUint32(p + 4 * i)
    for (let i = 16; i < 64; i += 1) {
      const x = w[i - 15]
      const y = w[i - 2]
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0
    }
    let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7]
    for (let i = 0; i < 64; i += 1) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    s[0] = (s[0] + a) | 0
    s[1] = (s[1] + b) | 0
    s[2] = (s[2] + c) | 0
    s[3] = (s[3] + d) | 0
    s[4] = (s[4] + e) | 0
    s[5] = (s[5] + f) | 0
    s[6] = (s[6] + g) | 0
    s[7] = (s[7] + h) | 0
  }

  /** Compresses the 64-byte blocks of `data` from `start` up to `end`. */
  function blocks(data: Uint8Array, start: number, end: number): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    for (let p = start; p < end; p += BLOCK) block(view, p)
  }

  return {
    update(data: Uint8Array): void {
      if (finished) throw new Error('This SHA-256 is already finished.')
      let offset = 0
      total += data.length
      if (pendingLength > 0) {
        const take = Math.min(BLOCK - pendingLength, data.length)
        pending.set(data.subarray(0, take), pendingLength)
        pendingLength += take
        offset = take
        if (pendingLength < BLOCK) return
        blocks(pending, 0, BLOCK)
        pendingLength = 0
      }
      const whole = offset + Math.floor((data.length - offset) / BLOCK) * BLOCK
      if (whole > offset) blocks(data, offset, whole)
      if (whole < data.length) {
        pending.set(data.subarray(whole), 0)
        pendingLength = data.length - whole
      }
    },

    hex(): string {
      if (finished) throw new Error('This SHA-256 is already finished.')
      const bits = total * 8
      const tail = new Uint8Array(pendingLength < 56 ? BLOCK : 2 * BLOCK)
      tail.set(pending.subarray(0, pendingLength))
      tail[pendingLength] = 0x80
      const view = new DataView(tail.buffer)
      view.setUint32(tail.length - 8, Math.floor(bits / 0x100000000))
      view.setUint32(tail.length - 4, bits >>> 0)
      blocks(tail, 0, tail.length)
      finished = true
      let out = ''
      for (let i = 0; i < 8; i += 1) out += (s[i] >>> 0).toString(16).padStart(8, '0')
      return out
    },
  }
}

/** The same hash as a class, fed by chaining. */
export class Sha256 {
  private readonly core = createSha256()

  update(data: Uint8Array): this {
    this.core.update(data)
    return this
  }

  hex(): string {
    return this.core.hex()
  }
}
