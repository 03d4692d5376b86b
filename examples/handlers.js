// The demo's route handlers. Plain JavaScript on purpose: server-status reads a `# Name`
// comment from a handler's source at run time, and tsx drops comments when it compiles a
// .ts file, while it runs a .js file as written. Types are in handlers.d.ts.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const between = (min, max) => min + Math.floor(Math.random() * (max - min + 1))

export function index(req, res) {
  /** # Home
   * The welcome page. Always answers 200. */
  res.send('Welcome to the server-status demo. The status page is at /status.')
}

export async function listOrders(req, res) {
  /** # Orders
   * Lists recent orders. Flaky: about one request in ten answers 503. */
  await sleep(between(5, 40))
  if (Math.random() < 0.1) {
    res.status(503).json({ error: 'order service unavailable' })
    return
  }
  res.json([
    { id: 1041, total: 25.5 },
    { id: 1042, total: 12 },
  ])
}

export async function buildReport(req, res) {
  /** # Reports
   * Builds a sales report. Slow: 200 to 800 ms. */
  const ms = between(200, 800)
  await sleep(ms)
  res.json({ report: 'sales', tookMs: ms })
}

export function getProduct(req, res) {
  /** # Product
   * One product by id; an unknown id answers 404, which counts as a failure. */
  const id = Number(req.params.id)
  if (!Number.isInteger(id) || id < 1 || id > 500) {
    res.status(404).json({ error: `no product ${req.params.id}` })
    return
  }
  res.json({ id, name: `Product ${id}` })
}

// No `# Name` comment: the demo names this route with status.describe().
export function getUser(req, res) {
  if (req.params.id === '0') {
    // 403 is neither a success nor a failure: it counts as ignored
    res.status(403).json({ error: 'forbidden' })
    return
  }
  res.json({ id: req.params.id, name: `User ${req.params.id}` })
}

// No `# Name` comment either: the page shows the function's name, "checkout".
export async function checkout(req, res) {
  await sleep(between(20, 120))
  if (Math.random() < 0.02) throw new Error('payment provider timed out')
  res.status(201).json({ order: between(1000, 9999), items: req.body?.items ?? [] })
}
