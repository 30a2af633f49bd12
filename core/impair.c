/* SPDX-License-Identifier: MIT */
/* A port's impairment in one direction at work (see impair.h). */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/virtio_net.h>

#include <ubridge/eth.h>
#include <ubridge/io.h>

#include "impair.h"

const char *const ub_impair_dir_names[2] = { "in", "out" };

/* ---- random numbers: xoshiro256**, seeded through splitmix64 ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct ub_impair *im)
{
	uint64_t *s = im->rng, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in (0, 1]. */
static double uniform(struct ub_impair *im)
{
	return (double)((rnd(im) >> 11) + 1) * 0x1.0p-53;
}

/* True with probability ppm / 10^6. */
static bool chance(struct ub_impair *im, uint32_t ppm)
{
	return ppm && (rnd(im) >> 32) * UB_IMPAIR_PPM >> 32 < ppm;
}

/* ---- the models ---- */

/*
 * A delay: 'delay' plus 'jitter' times a draw of the distribution, scaled
 * to a spread of one (uniform: -1 to 1; normal and Pareto: mean 0 and
 * standard deviation 1, Pareto with shape 3), correlated with the last
 * draw; never below 0.
 */
static uint64_t draw_delay(struct ub_impair *im)
{
	const struct ub_impair_cfg *c = &im->cfg;
	double x, rho = c->delay_corr_ppm / (double)UB_IMPAIR_PPM, d;

	if (!c->jitter_ns)
		return c->delay_ns;
	switch (c->dist) {
	case UB_IMPAIR_DIST_NORMAL:
		x = sqrt(-2 * log(uniform(im))) * cos(2 * M_PI * uniform(im));
		x = rho * im->last_delay + sqrt(1 - rho * rho) * x;
		break;
	case UB_IMPAIR_DIST_PARETO:
		/* x_m / U^(1/3): mean 1.5, standard deviation sqrt(3) / 2. */
		x = (pow(uniform(im), -1.0 / 3) - 1.5) / (sqrt(3) / 2);
		x = rho * im->last_delay + sqrt(1 - rho * rho) * x;
		break;
	default:
		x = 2 * uniform(im) - 1;
		x = rho * im->last_delay + (1 - rho) * x;
		break;
	}
	im->last_delay = x;
	d = (double)c->delay_ns + (double)c->jitter_ns * x;
	return d <= 0 ? 0 : (uint64_t)d;
}

/* Whether the loss model takes this frame. Gilbert-Elliott as netem has
 * it: the state moves first, then the state's loss applies. */
static bool lose(struct ub_impair *im)
{
	const struct ub_impair_cfg *c = &im->cfg;
	double u, rho;

	switch (c->loss) {
	case UB_IMPAIR_LOSS_RANDOM:
		rho = c->loss_corr_ppm / (double)UB_IMPAIR_PPM;
		u = rho * im->last_loss + (1 - rho) * uniform(im);
		im->last_loss = u;
		return u * UB_IMPAIR_PPM <= c->loss_ppm;
	case UB_IMPAIR_LOSS_GEMODEL:
		if (im->ge_bad ? chance(im, c->ge_r_ppm) :
				 chance(im, c->ge_p_ppm))
			im->ge_bad = !im->ge_bad;
		return chance(im, im->ge_bad ? c->ge_h_ppm : c->ge_k_ppm);
	case UB_IMPAIR_LOSS_NONE:
		break;
	}
	return false;
}

/* The Internet checksum of data[0..len), added to 'sum'. */
static uint32_t csum_add(uint32_t sum, const uint8_t *data, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(data[i] << 8 | data[i + 1]);
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	return sum;
}

/*
 * Flips one bit of 'frame' past its Ethernet header. A checksum the
 * kernel was to fill in (partial) is filled in first, so that the
 * receiver finds the damage as it would on a wire. GSO frames are left
 * alone (their checksums are per segment): false.
 */
static bool corrupt(struct ub_impair *im, uint8_t *frame, uint32_t len)
{
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)frame;
	uint8_t *eth = frame + UB_VNET_HLEN;
	uint32_t elen = len - UB_VNET_HLEN, start, field, sum;

	if (elen <= UB_ETH_HLEN || vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		start = le16toh(vh->csum_start);
		field = start + le16toh(vh->csum_offset);
		if (start >= elen || field + 2 > elen)
			return false;
		sum = csum_add(0, eth + start, elen - start);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		sum = ~sum & 0xffff;
		eth[field] = (uint8_t)(sum >> 8);
		eth[field + 1] = (uint8_t)sum;
		vh->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
	}
	eth[UB_ETH_HLEN + rnd(im) % (elen - UB_ETH_HLEN)] ^=
		(uint8_t)(1u << (rnd(im) & 7));
	return true;
}

/* ---- the queue ---- */

static struct ub_impair_ent *ent(const struct ub_impair *im, uint32_t i)
{
	return &im->q[(im->head + i) % im->cfg.limit];
}

/* Holds a copy of the frame, due at 'due_ns', after every frame due no
 * later; its slot, or UINT32_MAX when the queue is full. */
static uint32_t hold(struct ub_impair *im, const uint8_t *frame, uint32_t len,
		     uint64_t due_ns, uint32_t tag)
{
	uint32_t slot, i;

	if (!im->nfree) {
		im->st.drop_limit++;
		return UINT32_MAX;
	}
	slot = im->free_slots[--im->nfree];
	memcpy(im->mem + (size_t)slot * UB_BUF_SIZE, frame, len);
	for (i = im->n; i && ent(im, i - 1)->due_ns > due_ns; i--)
		*ent(im, i) = *ent(im, i - 1);
	*ent(im, i) = (struct ub_impair_ent){ due_ns, len, slot, tag };
	im->n++;
	return slot;
}

unsigned ub_impair_admit(struct ub_impair *im, const uint8_t *frame,
			 uint32_t len, uint64_t now_ns, uint32_t tag)
{
	const struct ub_impair_cfg *c = &im->cfg;
	bool dup, bad, early;
	uint64_t due;
	uint32_t slot;

	if (lose(im)) {
		im->st.drop_loss++;
		return 0;
	}
	dup = chance(im, c->duplicate_ppm);
	bad = chance(im, c->corrupt_ppm);
	early = chance(im, c->reorder_ppm);
	/* Before the rate counts it: a frame dropped takes no link time. */
	if (!im->nfree || len > UB_BUF_SIZE) {
		im->st.drop_limit++;
		return 0;
	}
	if (early) {
		due = now_ns;
	} else {
		due = now_ns + draw_delay(im);
		if (c->rate_bps) {
			uint64_t bits = (uint64_t)(len - UB_VNET_HLEN) * 8;

			if (due < im->link_free_ns)
				due = im->link_free_ns;
			due += bits * 1000000000ull / c->rate_bps;
			im->link_free_ns = due;
		}
	}
	slot = hold(im, frame, len, due, tag);
	if (slot == UINT32_MAX)
		return 0;
	im->st.delayed++;
	im->st.reordered += early;
	if (bad && corrupt(im, im->mem + (size_t)slot * UB_BUF_SIZE, len))
		im->st.corrupted++;
	if (!dup || hold(im, frame, len, due, tag) == UINT32_MAX)
		return 1;
	im->st.delayed++;
	im->st.duplicated++;
	return 2;
}

bool ub_impair_peek(const struct ub_impair *im, uint64_t now_ns,
		    const uint8_t **data, uint32_t *len, uint32_t *tag)
{
	const struct ub_impair_ent *e;

	if (!im->n || (e = ent(im, 0))->due_ns > now_ns)
		return false;
	*data = im->mem + (size_t)e->slot * UB_BUF_SIZE;
	*len = e->len;
	*tag = e->tag;
	return true;
}

void ub_impair_pop(struct ub_impair *im)
{
	im->free_slots[im->nfree++] = ent(im, 0)->slot;
	im->head = (im->head + 1) % im->cfg.limit;
	im->n--;
}

uint64_t ub_impair_next_due(const struct ub_impair *im)
{
	return im->n ? ent(im, 0)->due_ns : UINT64_MAX;
}

void ub_impair_clear(struct ub_impair *im)
{
	for (uint32_t i = 0; i < im->n; i++)
		ent(im, i)->due_ns = 0;
	im->clearing = true;
}

/* ---- life cycle ---- */

static void seed_rng(struct ub_impair *im, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		im->rng[i] = splitmix(&seed);
}

int ub_impair_new(const struct ub_impair_cfg *cfg, uint64_t seed,
		  struct ub_impair **out)
{
	struct ub_impair *im = calloc(1, sizeof(*im));
	uint32_t limit = cfg->limit;

	if (!im)
		return -ENOMEM;
	im->cfg = *cfg;
	im->q = calloc(limit, sizeof(*im->q));
	im->free_slots = calloc(limit, sizeof(*im->free_slots));
	/* Address space: a slot's pages are touched by the frames it holds. */
	im->mem = mmap(NULL, (size_t)limit * UB_BUF_SIZE,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (im->mem == MAP_FAILED)
		im->mem = NULL;
	if (!im->q || !im->free_slots || !im->mem) {
		ub_impair_free(im);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < limit; i++)
		im->free_slots[i] = limit - 1 - i;
	im->nfree = limit;
	seed_rng(im, seed);
	*out = im;
	return 0;
}

void ub_impair_free(struct ub_impair *im)
{
	if (!im)
		return;
	if (im->mem)
		munmap(im->mem, (size_t)im->cfg.limit * UB_BUF_SIZE);
	free(im->q);
	free(im->free_slots);
	free(im);
}

int ub_impair_reset(struct ub_impair **imp, const struct ub_impair_cfg *cfg,
		    uint64_t seed)
{
	struct ub_impair *old = *imp, *im;
	int ret;

	if (cfg->limit == old->cfg.limit) {
		old->cfg = *cfg;
	} else {
		ret = ub_impair_new(cfg, seed, &im);
		if (ret)
			return ret;
		im->st = old->st;
		im->link_free_ns = old->link_free_ns;
		for (uint32_t i = 0; i < old->n; i++) {
			const struct ub_impair_ent *e = ent(old, i);

			hold(im, old->mem + (size_t)e->slot * UB_BUF_SIZE,
			     e->len, e->due_ns, e->tag);
		}
		ub_impair_free(old);
		*imp = old = im;
	}
	/* The models start over; what is held stays as it was. */
	old->clearing = false;
	old->ge_bad = false;
	old->last_delay = old->last_loss = 0;
	return 0;
}
