import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode, errorMessage } from '../common/index.js';

/** The codes shared/docs/API.md lists, in its order (the enum of ErrorResponse.code). */
export const CONTRACT_ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/**
 * The one error body of the service (AllExceptionsFilter): `{ statusCode, code, message, details? }`,
 * plus `verified: false` on verify outcomes and `errorId` on 5xx. Documentation only: the filter
 * builds the body.
 */
export class ErrorResponse {
  @ApiProperty({ description: 'HTTP status, repeated in the body', example: 400 })
  statusCode!: number;

  @ApiProperty({
    description: 'Machine-readable error code; clients branch on this, never on `message`',
    enum: CONTRACT_ERROR_CODES,
    enumName: 'ErrorCode',
    example: 'invalid_phone',
  })
  code!: ErrorCode;

  @ApiProperty({
    description: 'Human-readable explanation (may change)',
    example: errorMessage('invalid_phone'),
  })
  message!: string;

  @ApiPropertyOptional({
    description:
      '`invalid_request`: field → message map; `resend_cooldown`: retryAfterSeconds and resendAvailableAt',
    type: 'object',
    additionalProperties: true,
    example: { phone: 'phone should not be empty' },
  })
  details?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Verify outcomes only (invalid_code, expired, not_found, max_attempts_reached)',
    example: false,
  })
  verified?: boolean;

  @ApiPropertyOptional({ description: '`invalid_code` only: wrong tries left for this code', example: 3 })
  attemptsRemaining?: number;

  @ApiPropertyOptional({
    description: '`internal_error` only: the id under which the error was logged',
    format: 'uuid',
    example: '0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a',
  })
  errorId?: string;
}
