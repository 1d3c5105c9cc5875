-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "VerificationStatus" AS ENUM ('pending', 'verified', 'expired', 'max_attempts_reached', 'canceled');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('queued', 'sent', 'delivered', 'read', 'failed');

-- CreateTable
CREATE TABLE "one_time_codes" (
    "id" UUID NOT NULL,
    "phone" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "code_hash" TEXT NOT NULL,
    "hash_key_id" TEXT NOT NULL,
    "client" TEXT NOT NULL,
    "locale" TEXT,
    "status" "VerificationStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "canceled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivery_status" "DeliveryStatus" NOT NULL DEFAULT 'queued',
    "delivery_provider" TEXT,
    "delivery_message_id" TEXT,
    "delivery_error" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "read_at" TIMESTAMPTZ(3),
    "delivery_updated_at" TIMESTAMPTZ(3),

    CONSTRAINT "one_time_codes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delivery_attempts" (
    "id" UUID NOT NULL,
    "code_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "provider_message_id" TEXT,
    "provider_status" TEXT,
    "error_code" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "client" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "response_status" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("client","key")
);

-- CreateTable
CREATE TABLE "whatsapp_contacts" (
    "phone" TEXT NOT NULL,
    "last_inbound_at" TIMESTAMPTZ(3),
    "opted_out_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "whatsapp_contacts_pkey" PRIMARY KEY ("phone")
);

-- CreateTable
CREATE TABLE "provider_states" (
    "provider" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "details" JSONB,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "provider_states_pkey" PRIMARY KEY ("provider")
);

-- CreateTable
CREATE TABLE "webhook_receipts" (
    "provider" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_receipts_pkey" PRIMARY KEY ("provider","kind","value")
);

-- CreateIndex
CREATE INDEX "one_time_codes_phone_purpose_created_at_idx" ON "one_time_codes"("phone", "purpose", "created_at" DESC);

-- CreateIndex
CREATE INDEX "one_time_codes_created_at_idx" ON "one_time_codes"("created_at");

-- CreateIndex
CREATE INDEX "one_time_codes_delivery_message_id_idx" ON "one_time_codes"("delivery_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "one_time_codes_one_pending_per_phone_purpose" ON "one_time_codes"("phone", "purpose") WHERE (status = 'pending'::"VerificationStatus");

-- CreateIndex
CREATE INDEX "delivery_attempts_code_id_idx" ON "delivery_attempts"("code_id");

-- CreateIndex
CREATE INDEX "delivery_attempts_provider_message_id_idx" ON "delivery_attempts"("provider_message_id");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE INDEX "webhook_receipts_received_at_idx" ON "webhook_receipts"("received_at");

-- AddForeignKey
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_code_id_fkey" FOREIGN KEY ("code_id") REFERENCES "one_time_codes"("id") ON DELETE CASCADE ON UPDATE CASCADE;


