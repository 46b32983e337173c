export { emitReturnWithoutIret, restoreAll as restoreAll64, saveAll as saveAll64 } from './entry-common.js';
