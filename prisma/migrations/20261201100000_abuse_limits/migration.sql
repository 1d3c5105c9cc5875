-- Codes belong to their client (API.md A1): one pending code per (client, phone, purpose), and the
-- newest-code lookup within one client.
DROP INDEX "one_time_codes_one_pending_per_phone_purpose";
DROP INDEX "one_time_codes_phone_purpose_created_at_idx";

-- CreateIndex
CREATE INDEX "one_time_codes_phone_client_purpose_created_at_idx" ON "one_time_codes"("phone", "client", "purpose", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "one_time_codes_one_pending_per_client_phone_purpose" ON "one_time_codes"("phone", "client", "purpose") WHERE (status = 'pending'::"VerificationStatus");

-- CreateTable
CREATE TABLE "phone_send_counters" (
    "key" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(3)[],
    "sent_by" TEXT[],
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "phone_send_counters_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "verify_guards" (
    "client" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "failures" TIMESTAMPTZ(3)[],
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "verify_guards_pkey" PRIMARY KEY ("client","phone")
);

-- Both tables are updated in place on almost every send or wrong code: room on each page lets
-- PostgreSQL keep the new row version there (a HOT update, no index write).
ALTER TABLE "phone_send_counters" SET (fillfactor = 70);
ALTER TABLE "verify_guards" SET (fillfactor = 70);
