// A TCP proxy on 127.0.0.1 in front of a database, which a test pauses, cuts and restores.
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/** One client connection and its connection to the database. */
interface Pair {
  client: Socket
  upstream: Socket
  /** Data held while paused, in the order it arrived. */
  toUpstream: Buffer[]
  toClient: Buffer[]
  /** A COMMIT went to the database while `cutAfterCommit()` was armed. */
  commitSent: boolean
}

type State = 'open' | 'paused' | 'cut'

/**
 * Forwards 127.0.0.1:`port` to a database. `pause()` holds every byte in both directions with
 * the connections open (a database that hangs); `cut()` destroys every connection and refuses
 * new ones (a database that went away); `restore()` forwards again.
 *
 * @example
 * const proxy = await TcpProxy.start(5432)
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/db`
 * proxy.cut(); proxy.restore(); await proxy.close()
 */
export class TcpProxy {
  readonly port: number
  readonly #server: Server
  readonly #targetPort: number
  readonly #targetHost: string
  readonly #pairs = new Set<Pair>()
  #state: State = 'open'
  #armed = false
  #cutBefore: RegExp | null = null
  /** Times the connections were cut after a COMMIT reached the database and before its reply reached the client. */
  commitsCut = 0
  /** Times the connections were cut by `cutBefore()`. */
  statementsCut = 0
  /** Connections accepted and forwarded (not refused). */
  accepted = 0

  private constructor(server: Server, targetHost: string, targetPort: number) {
    this.#server = server
    this.#targetHost = targetHost
    this.#targetPort = targetPort
    this.port = (server.address() as AddressInfo).port
    server.on('connection', (client) => this.#accept(client))
  }

  /** Listens on a free port of 127.0.0.1 and forwards to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return new TcpProxy(server, targetHost, targetPort)
  }

  /** Open connections. */
  get connections(): number {
    return this.#pairs.size
  }

  /** Stops forwarding in both directions; connections stay open and new ones are accepted. */
  pause(): void {
    if (this.#state === 'open') this.#state = 'paused'
  }

  /** Destroys every connection; new ones are refused until `restore()`. */
  cut(): void {
    this.#state = 'cut'
    for (const pair of [...this.#pairs]) this.#drop(pair)
  }

  /** Forwards again, first what was held while paused. */
  restore(): void {
    this.#state = 'open'
    for (const pair of this.#pairs) {
      for (const chunk of pair.toUpstream.splice(0)) this.#send(pair, 'up', chunk)
      for (const chunk of pair.toClient.splice(0)) this.#send(pair, 'down', chunk)
    }
  }

  /**
   * Lets the next COMMIT reach the database, then holds its reply and cuts every connection:
   * the transaction is committed but the client never learns it.
   */
  cutAfterCommit(): void {
    this.#armed = true
  }

  /**
   * Cuts every connection when a client next sends bytes that match `pattern`, before they
   * reach the database: a transaction is broken off between two of its statements.
   */
  cutBefore(pattern: RegExp): void {
    this.#cutBefore = pattern
  }

  async close(): Promise<void> {
    this.#state = 'cut'
    for (const pair of [...this.#pairs]) this.#drop(pair)
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: Socket): void {
    client.on('error', () => {})
    if (this.#state === 'cut') {
      client.resetAndDestroy()
      return
    }
    this.accepted += 1
    client.setNoDelay(true)
    const upstream = connect({ host: this.#targetHost, port: this.#targetPort })
    upstream.setNoDelay(true)
    upstream.on('error', () => {})
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [], commitSent: false }
    this.#pairs.add(pair)
    client.on('data', (chunk: Buffer) => this.#forward(pair, 'up', chunk))
    upstream.on('data', (chunk: Buffer) => this.#forward(pair, 'down', chunk))
    const end = () => this.#drop(pair)
    client.on('close', end)
    upstream.on('close', end)
  }

  #forward(pair: Pair, direction: 'up' | 'down', chunk: Buffer): void {
    if (!this.#pairs.has(pair)) return
    if (this.#state === 'paused') {
      ;(direction === 'up' ? pair.toUpstream : pair.toClient).push(chunk)
      return
    }
    this.#send(pair, direction, chunk)
  }

  #send(pair: Pair, direction: 'up' | 'down', chunk: Buffer): void {
    if (direction === 'up') {
      if (this.#cutBefore !== null && this.#cutBefore.test(chunk.toString('latin1'))) {
        this.#cutBefore = null
        this.statementsCut += 1
        this.cut()
        return
      }
      if (this.#armed && /\bcommit\b/i.test(chunk.toString('latin1'))) {
        this.#armed = false
        pair.commitSent = true
      }
      pair.upstream.write(chunk)
      return
    }
    if (pair.commitSent) {
      // the database answered the COMMIT, so it is done; the answer is lost with the connections
      this.commitsCut += 1
      this.cut()
      return
    }
    pair.client.write(chunk)
  }

  #drop(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return
    pair.client.destroy()
    pair.upstream.destroy()
  }
}
