/**
 * How the edit component reads the route's direct-mode answers (components/direct-requests.ts): the
 * shapes of src/shared/direct-protocol.ts are taken, anything else is no answer (the request is then
 * retried or the upload fails with the route's message), never half-read.
 */
import { describe, expect, test } from '@jest/globals'
import { readPartsAnswer, readSignAnswer } from '../components/direct-requests.js'

const signed = { partNumber: 2, url: 'http://bucket/k?partNumber=2', headers: { 'x-amz-checksum-sha256': 'abc=' }, expiresAt: 1_700_000_000_000 }

describe('sign answers', () => {
  test('a signed batch with the held parts is read as sent', () => {
    expect(readSignAnswer({ status: 'signed', parts: [signed], held: [1] })).toEqual({ status: 'signed', parts: [signed], held: [1] })
  })

  test.each([
    ['not an object', 'signed'],
    ['another status', { status: 'error', parts: [signed], held: [] }],
    ['parts missing', { status: 'signed', held: [] }],
    ['a part without its URL', { status: 'signed', parts: [{ ...signed, url: undefined }], held: [] }],
    ['a part number of 0', { status: 'signed', parts: [{ ...signed, partNumber: 0 }], held: [] }],
    ['a header that is not text', { status: 'signed', parts: [{ ...signed, headers: { 'x-amz-checksum-sha256': 1 } }], held: [] }],
    ['held parts that are not numbers', { status: 'signed', parts: [signed], held: ['1'] }],
  ])('%s: no answer', (_what, body) => {
    expect(readSignAnswer(body)).toBeNull()
  })
})

describe('parts answers', () => {
  test('partial, complete and resend are read as sent', () => {
    expect(readPartsAnswer({ status: 'partial', held: [1, 3] })).toEqual({ status: 'partial', held: [1, 3] })
    expect(readPartsAnswer({ status: 'complete', reference: 'u-1' })).toEqual({ status: 'complete', reference: 'u-1' })
    expect(readPartsAnswer({ status: 'resend', parts: [2] })).toEqual({ status: 'resend', parts: [2] })
  })

  test.each([
    ['complete without a reference', { status: 'complete' }],
    ['resend without parts', { status: 'resend' }],
    ['resend of part -1', { status: 'resend', parts: [-1] }],
    ['an error body', { status: 'error', code: 'expired', message: 'gone' }],
    ['null', null],
  ])('%s: no answer', (_what, body) => {
    expect(readPartsAnswer(body)).toBeNull()
  })
})
