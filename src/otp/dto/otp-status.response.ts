import { ApiProperty } from '@nestjs/swagger';

const VERIFICATION_STATUSES = ['pending', 'verified', 'expired', 'max_attempts_reached', 'canceled'];
const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed'];

export class DeliveryAttemptView {
  @ApiProperty({ description: 'Provider that was tried', example: 'sinch' })
  provider!: string;

  @ApiProperty({
    description:
      'Result of this try. `in_flight`: under way; `in_doubt`: the worker died during the provider call (the same code is sent again; a later report may settle it); `not_delivered`: accepted, then reported undelivered; `rate_limited_error`: the provider asked us to wait (the send is rescheduled or falls back)',
    enum: [
      'sent',
      'in_flight',
      'in_doubt',
      'not_delivered',
      'retryable_error',
      'rate_limited_error',
      'permanent_error',
      'configuration_error',
      'skipped',
    ],
    example: 'sent',
  })
  outcome!: string;

  @ApiProperty({ description: "Provider's error code, if any", type: String, nullable: true, example: null })
  errorCode!: string | null;

  @ApiProperty({
    description: 'Raw provider state, if any',
    type: String,
    nullable: true,
    example: 'QUEUED_ON_CHANNEL',
  })
  providerStatus!: string | null;

  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:00:01.000Z' })
  at!: string;
}

export class DeliveryView {
  @ApiProperty({
    description: 'queued → sent (provider accepted) → delivered → read; or failed (every provider exhausted)',
    enum: DELIVERY_STATUSES,
    example: 'delivered',
  })
  status!: string;

  @ApiProperty({
    description: 'Provider currently responsible',
    type: String,
    nullable: true,
    example: 'sinch',
  })
  provider!: string | null;

  @ApiProperty({ description: 'Last delivery error, if any', type: String, nullable: true, example: null })
  error!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2025-01-01T12:00:03.000Z' })
  updatedAt!: string | null;

  @ApiProperty({ type: () => [DeliveryAttemptView] })
  attempts!: DeliveryAttemptView[];
}

/** 200 body of GET /v1/otp/{id} (OtpStatusService.view). */
export class OtpStatusResponse {
  @ApiProperty({ format: 'uuid', example: '3f2c1a9e-5b7d-4e0f-8a6c-1d2e3f4a5b6c' })
  id!: string;

  @ApiProperty({ description: 'E.164', example: '+233241234567' })
  phone!: string;

  @ApiProperty({ example: 'login' })
  purpose!: string;

  @ApiProperty({
    description: 'Verification status; `canceled` means replaced by a newer code',
    enum: VERIFICATION_STATUSES,
    example: 'pending',
  })
  status!: string;

  @ApiProperty({ description: 'Tries made so far', example: 1 })
  attempts!: number;

  @ApiProperty({ description: 'Tries left (0 unless pending)', example: 4 })
  attemptsRemaining!: number;

  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:05:00.000Z' })
  expiresAt!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  verifiedAt!: string | null;

  @ApiProperty({ type: () => DeliveryView })
  delivery!: DeliveryView;
}
