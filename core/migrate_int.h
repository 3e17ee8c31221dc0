/* What the migration files share (migrate*.c); internal to core. */
#ifndef HD_MIGRATE_INT_H
#define HD_MIGRATE_INT_H

#include "hsmdesk.h"

/* migrate_check.c: the plan's own consistency, after parsing */
int hd_mig_validate(const struct hd_mig_plan *p, struct hd_err *err);
/* "RSA-3072", "EC-P256" -> profile type, bits, curve; -1 if neither */
int hd_mig_keyspec(const char *spec, enum hd_keytype *type, unsigned *bits,
    char curve[8]);

#endif
