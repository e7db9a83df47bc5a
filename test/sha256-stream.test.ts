/**
 * The incremental SHA-256 the edit component hashes a whole file with in direct mode
 * (components/sha256-stream.ts), against node:crypto: every length around the 55/56/64-byte padding
 * edges, fed in pieces of every shape, and a file of several chunks fed as the component feeds it.
 */
import { createHash } from 'node:crypto'
import { describe, expect, test } from '@jest/globals'
import { Sha256 } from '../components/sha256-stream.js'
import { bytes } from './support/resumable-client.js'

const reference = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

describe('incremental SHA-256 (components/sha256-stream.ts)', () => {
  test('the known digests of "" and "abc"', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  test('every length from 0 to 300 bytes, whole and byte by byte, equals node:crypto', () => {
    const data = bytes(300, 3)
    for (let n = 0; n <= 300; n += 1) {
      const piece = data.subarray(0, n)
      const whole = new Sha256().update(piece).hex()
      const split = new Sha256()
      for (let i = 0; i < n; i += 1) split.update(piece.subarray(i, i + 1))
      expect([n, whole, split.hex()]).toEqual([n, reference(piece), reference(piece)])
    }
  })

  test('a 3 MiB + 7 file fed in uneven pieces (pieces straddle 64-byte blocks)', () => {
    const data = bytes(3 * 1024 * 1024 + 7, 9)
    const hash = new Sha256()
    let offset = 0
    for (let size = 1; offset < data.length; size = (size * 7 + 13) % 100_003) {
      hash.update(data.subarray(offset, offset + size))
      offset += size
    }
    expect(hash.hex()).toBe(reference(data))
  })

  test('a finished hash refuses more bytes and a second digest', () => {
    const hash = new Sha256().update(new Uint8Array([1, 2, 3]))
    hash.hex()
    expect(() => hash.update(new Uint8Array([4]))).toThrow(/already finished/)
    expect(() => hash.hex()).toThrow(/already finished/)
  })
})
