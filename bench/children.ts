// Starts the benchmark's child processes, pins them to a core, calls them over IPC, and kills them all on exit.
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

/** A request from the runner to a child. */
export interface CallMessage {
  id: number
  method: string
  arg: unknown
}

/** A child's answer to a `CallMessage`. */
export type ReplyMessage = { id: number; value: unknown } | { id: number; error: string }

/** What a child sends once it is ready to take calls. */
export interface ReadyMessage {
  ready: true
  info: unknown
}

const live = new Set<ChildProcess>()
let pinning: boolean | null = null

/** Whether processes are pinned: `taskset` works and the machine has two cores or more. */
export function canPin(): boolean {
  if (pinning === null) {
    pinning = availableParallelism() >= 2 && spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0
  }
  return pinning
}

/** Pins every thread of a process to one core; does nothing where that is not possible. */
export function pin(pid: number, core: number): void {
  if (!canPin()) return
  const result = spawnSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore' })
  if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to core ${core}`)
}

/** A running child process that answers calls. */
export class Child {
  readonly process: ChildProcess
  readonly info: unknown
  #next = 1
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()

  private constructor(child: ChildProcess, info: unknown) {
    this.process = child
    this.info = info
    child.on('message', (message: ReplyMessage) => {
      const waiter = this.#waiting.get(message.id)
      if (!waiter) return
      this.#waiting.delete(message.id)
      if ('error' in message) waiter.reject(new Error(message.error))
      else waiter.resolve(message.value)
    })
    child.once('exit', (code, signal) => {
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`child exited (${signal ?? code}) before answering`))
      this.#waiting.clear()
    })
  }

  /**
   * Forks `file` (a TypeScript file under bench/, run through tsx), pins it to `core` and waits
   * for it to say it is ready.
   */
  static async start(file: string, options: { core: number; arg?: unknown; execArgv?: string[]; timeoutMs?: number }): Promise<Child> {
    const path = fileURLToPath(new URL(file, import.meta.url))
    const child = fork(path, [JSON.stringify(options.arg ?? null)], {
      execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    live.add(child)
    child.once('exit', () => live.delete(child))
    try {
      if (child.pid === undefined) throw new Error(`could not start ${file}`)
      pin(child.pid, options.core)
      const info = await withTimeout(
        new Promise<unknown>((resolve, reject) => {
          child.once('error', reject)
          child.once('exit', (code, signal) => reject(new Error(`${file} exited (${signal ?? code}) while starting`)))
          child.on('message', (message: ReadyMessage) => {
            if (message && message.ready === true) resolve(message.info)
          })
        }),
        options.timeoutMs ?? 30_000,
        `${file} did not start`,
      )
      return new Child(child, info)
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    }
  }

  /** Calls `method` in the child; rejects when it does not answer within `timeoutMs`. */
  call<T>(method: string, arg?: unknown, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++
    const message: CallMessage = { id, method, arg: arg ?? null }
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      this.process.send(message, (error) => {
        if (error) {
          this.#waiting.delete(id)
          reject(error)
        }
      })
    })
    return withTimeout(answer, timeoutMs, `${method} took longer than ${timeoutMs} ms`) as Promise<T>
  }

  /** Asks the child to exit and kills it when it does not within a few seconds. */
  async stop(): Promise<void> {
    const child = this.process
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.call('exit', null, 5_000).catch(() => {})
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
}

/** Kills every child still running. Called on exit, on error and on a signal. */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll()
    process.exit(130)
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The child side: answers calls with `methods` and says it is ready with `info`. A call to
 * `exit`, or the runner going away, ends the process.
 */
export function answerCalls(methods: Record<string, (arg: any) => unknown>, info: unknown = null): void {
  const send = (message: ReplyMessage | ReadyMessage) => {
    if (process.connected) process.send!(message)
  }
  process.on('message', (message: CallMessage) => {
    if (message.method === 'exit') {
      void (async () => {
        try {
          await methods.exit?.(null)
        } finally {
          send({ id: message.id, value: null })
          process.exit(0)
        }
      })()
      return
    }
    const method = methods[message.method]
    Promise.resolve()
      .then(() => {
        if (!method) throw new Error(`unknown method ${message.method}`)
        return method(message.arg)
      })
      .then(
        (value) => send({ id: message.id, value: value ?? null }),
        (error: unknown) => send({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      )
  })
  process.once('disconnect', () => process.exit(0))
  send({ ready: true, info })
}

/** The JSON argument the runner passed to this child. */
export function childArg<T>(): T {
  return JSON.parse(process.argv[2] ?? 'null') as T
}
