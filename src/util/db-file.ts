// The metadata store's file name in a root, apart from db.ts so that the exit
// hook's entry can see whether a store exists without loading SQLite.
export const DB_FILE = 'berth.db';
