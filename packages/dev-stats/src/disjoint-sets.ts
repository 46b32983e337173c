/** Union-find over strings, with path halving; the representative is deterministic. */
export class DisjointSets {
  private readonly parent = new Map<string, string>();

  find(item: string): string {
    let node = item;
    for (;;) {
      const up = this.parent.get(node);
      if (up === undefined || up === node) return node;
      const grand = this.parent.get(up) ?? up;
      this.parent.set(node, grand);
      node = grand;
    }
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    // The smaller string becomes the root, so the result does not depend on call order.
    if (ra < rb) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
  }
}
