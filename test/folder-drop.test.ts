/** Dropped folders (components/folder-drop.ts): every file found, each with its path below the drop. */
import { describe, expect, test } from '@jest/globals'
import { droppedFiles } from '../components/folder-drop.js'

type FakeEntry = Record<string, unknown>

function fileEntry(fullPath: string): FakeEntry {
  const name = fullPath.split('/').pop()!
  return { isFile: true, isDirectory: false, name, fullPath, file: (ok: (f: unknown) => void) => ok({ name, size: 1, type: 'image/png' }) }
}

function dirEntry(fullPath: string, children: FakeEntry[]): FakeEntry {
  return {
    isFile: false,
    isDirectory: true,
    name: fullPath.split('/').pop()!,
    fullPath,
    createReader: () => {
      // Two batches, then an empty one, as browsers answer readEntries.
      const batches = [children.slice(0, 1), children.slice(1), []]
      return { readEntries: (ok: (entries: FakeEntry[]) => void) => ok(batches.shift() ?? []) }
    },
  }
}

const transfer = (entries: FakeEntry[]) => ({
  items: entries.map((entry) => ({ webkitGetAsEntry: () => entry })),
  files: [],
}) as unknown as DataTransfer

describe('droppedFiles', () => {
  test('a folder gives every file inside it, with its relative path; a loose file has none', async () => {
    const files = await droppedFiles(transfer([
      dirEntry('/holiday', [fileEntry('/holiday/a.png'), dirEntry('/holiday/day 1', [fileEntry('/holiday/day 1/b.png')]), fileEntry('/holiday/c.png')]),
      fileEntry('/loose.png'),
    ]))
    expect(files.map((f) => [f.name, f.relativePath ?? null])).toEqual([
      ['a.png', 'holiday/a.png'],
      ['b.png', 'holiday/day 1/b.png'],
      ['c.png', 'holiday/c.png'],
      ['loose.png', null],
    ])
  })

  test('without entries (an older browser) the plain files of the drop are taken', async () => {
    const plain = [{ name: 'x.png' }]
    expect(await droppedFiles({ items: [], files: plain } as unknown as DataTransfer)).toEqual(plain)
  })
})
