// Types of handlers.js, the demo's route handlers.
import type { Request, Response } from 'express'

export declare function index(req: Request, res: Response): void
export declare function listOrders(req: Request, res: Response): Promise<void>
export declare function buildReport(req: Request, res: Response): Promise<void>
export declare function getProduct(req: Request<{ id: string }>, res: Response): void
export declare function getUser(req: Request<{ id: string }>, res: Response): void
export declare function checkout(req: Request, res: Response): Promise<void>
