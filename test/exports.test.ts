// The built package, imported by name from a separate package as users do (ESM, CommonJS, TypeScript).
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
let dir = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'server-status-consumer-'))
  await mkdir(join(dir, 'node_modules', '@types'), { recursive: true })
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  await symlink(root, join(dir, 'node_modules', 'server-status'), 'dir')
  await symlink(join(root, 'node_modules', 'express'), join(dir, 'node_modules', 'express'), 'dir')
  for (const types of ['node', 'express', 'express-serve-static-core', 'serve-static', 'qs', 'range-parser', 'send', 'mime', 'http-errors', 'body-parser', 'connect']) {
    await symlink(join(root, 'node_modules', '@types', types), join(dir, 'node_modules', '@types', types), 'dir').catch(() => {})
  }
  for (const file of ['esm.mjs', 'cjs.cjs', 'typed.ts', 'tsconfig.json']) await cp(join(root, 'test', 'external', file), join(dir, file))
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the built package', () => {
  it('imports with ESM through its exports map', async () => {
    const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: dir })
    expect(stdout.trim()).toBe('esm ok')
  })

  it('requires with CommonJS through its exports map', async () => {
    const { stdout } = await run(process.execPath, ['cjs.cjs'], { cwd: dir })
    expect(stdout.trim()).toBe('cjs ok')
  })

  it('type-checks a TypeScript user against its declarations', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir })).resolves.toBeDefined()
  })
})
