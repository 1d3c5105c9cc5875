import { ApiProperty } from '@nestjs/swagger';

export class QueuedDeliveryResponse {
  @ApiProperty({
    description: 'Always `queued` here: 202 means accepted for delivery, not delivered',
    enum: ['queued'],
    example: 'queued',
  })
  status!: 'queued';
}

/** 202 body of POST /v1/otp/send (documentation of OtpService.issue's IssueResponse). */
export class SendOtpResponse {
  @ApiProperty({
    description: 'Verification id (for GET /v1/otp/{id})',
    format: 'uuid',
    example: '3f2c1a9e-5b7d-4e0f-8a6c-1d2e3f4a5b6c',
  })
  id!: string;

  @ApiProperty({ description: 'The number, normalised to E.164', example: '+233241234567' })
  phone!: string;

  @ApiProperty({ description: 'What the code is for; it verifies only for this purpose', example: 'login' })
  purpose!: string;

  @ApiProperty({ description: 'Verification status of the new code', enum: ['pending'], example: 'pending' })
  status!: 'pending';

  @ApiProperty({ type: () => QueuedDeliveryResponse })
  delivery!: QueuedDeliveryResponse;

  @ApiProperty({
    description: 'When the code stops verifying',
    format: 'date-time',
    example: '2025-01-01T12:05:00.000Z',
  })
  expiresAt!: string;

  @ApiProperty({ description: 'Seconds the code lives (OTP_TTL_SECONDS, at most 600)', example: 300 })
  expiresIn!: number;

  @ApiProperty({
    description: 'Earliest time a new code for this phone and purpose is accepted',
    format: 'date-time',
    example: '2025-01-01T12:01:00.000Z',
  })
  resendAvailableAt!: string;

  @ApiProperty({ description: 'Wrong tries allowed for this code (OTP_MAX_ATTEMPTS)', example: 5 })
  attemptsRemaining!: number;
}
