import { newRolloutId, planWaves, rolloutImageIssues, RolloutIdSchema, RolloutRequestSchema, toleratedFailures } from '../../../functions/domain/rollout';

const t = (tenantId: string, status = 'ACTIVE') => ({ tenantId, status });
const PLANS = [{ id: 'standard', image: `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}` }];

describe('planWaves', () => {
  it('puts the first ACTIVE tenants (by id) in the canary and splits the rest into waves of the given size', () => {
    const waves = planWaves([t('e'), t('b', 'SUSPENDED'), t('a', 'SUSPENDED'), t('d'), t('c')], 2, 2);
    expect(waves.map((w) => w.map((x) => x.tenantId))).toEqual([['c', 'd'], ['a', 'b'], ['e']]);
  });

  it('never puts a SUSPENDED tenant in the canary (it cannot prove the new revision healthy)', () => {
    expect(planWaves([t('a', 'SUSPENDED'), t('b', 'SUSPENDED')], 1, 5).map((w) => w.length)).toEqual([2]);
  });
});

describe('toleratedFailures', () => {
  it('tolerates none in the canary, floor(size × percent / 100) in a wave', () => {
    expect(toleratedFailures(10, 50, true)).toBe(0);
    expect(toleratedFailures(4, 25, false)).toBe(1);
    expect(toleratedFailures(3, 25, false)).toBe(0);
    expect(toleratedFailures(100, 10, false)).toBe(10);
    expect(toleratedFailures(10, 0, false)).toBe(0);
  });
});

describe('rolloutImageIssues', () => {
  it('accepts a digest-pinned image from a repository a plan runs', () => {
    expect(rolloutImageIssues(`ghcr.io/openclaw/openclaw@sha256:${'b'.repeat(64)}`, PLANS)).toEqual([]);
  });

  it('refuses a tag, and a digest from another repository, saying which', () => {
    expect(rolloutImageIssues('ghcr.io/openclaw/openclaw:2026.9.6', PLANS)).toEqual(['image "ghcr.io/openclaw/openclaw:2026.9.6" is not pinned by digest: give REPOSITORY@sha256:<64 hex>']);
    expect(rolloutImageIssues(`ghcr.io/openclaw/openclaw-evil@sha256:${'b'.repeat(64)}`, PLANS)[0]).toMatch(/image repository "ghcr.io\/openclaw\/openclaw-evil" is not one this cell's plans run \(ghcr.io\/openclaw\/openclaw\)/);
  });
});

describe('rollout ids and requests', () => {
  it('makes sortable ids that the schema accepts', () => {
    const id = newRolloutId(new Date('2026-12-02T01:02:03.456Z'), 'a1b2c3');
    expect(id).toBe('r20261202t010203-a1b2');
    expect(RolloutIdSchema.safeParse(id).success).toBe(true);
  });

  it('needs an image or a plan, and bounds canary and wave', () => {
    expect(RolloutRequestSchema.safeParse({ canary: 1, waveSize: 1 }).success).toBe(false);
    expect(RolloutRequestSchema.safeParse({ plan: 'pro', canary: 0, waveSize: 1 }).success).toBe(false);
    expect(RolloutRequestSchema.parse({ plan: 'pro', canary: 1, waveSize: 10 })).toEqual({ plan: 'pro', canary: 1, waveSize: 10, maxFailurePercent: 10 });
  });
});
