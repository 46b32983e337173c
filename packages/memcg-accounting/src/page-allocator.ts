export const PAGE_SIZE = 4096;

/** The buddy allocator reduced to what the accounting needs: a finite number of pages. */
export class PageAllocator {
  usedPages = 0;
  peakPages = 0;
  failures = 0;

  constructor(readonly totalPages: number) {}

  alloc(pages: number): boolean {
    if (this.usedPages + pages > this.totalPages) {
      this.failures++;
      return false;
    }
    this.usedPages += pages;
    if (this.usedPages > this.peakPages) this.peakPages = this.usedPages;
    return true;
  }

  free(pages: number): void {
    this.usedPages -= pages;
  }
}
