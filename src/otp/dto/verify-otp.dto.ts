import {
  IsIP,
  IsISO31661Alpha2,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PURPOSE_PATTERN } from '../../codes/index.js';

export class VerifyOtpDto {
  @ApiProperty({
    description: 'The number the code was sent to, in any common spelling',
    maxLength: 64,
    example: '0241234567',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  phone!: string;

  /** The digits the user typed. */
  @ApiProperty({ description: 'The digits the user typed', pattern: '^\\d{1,12}$', example: '123456' })
  @IsString()
  @Matches(/^\d{1,12}$/, { message: 'code must be 1-12 digits' })
  code!: string;

  @ApiPropertyOptional({
    description: 'Must match the purpose of the send',
    pattern: '^[a-z0-9_-]{1,32}$',
    maxLength: 32,
    default: 'login',
    example: 'login',
  })
  @IsOptional()
  @IsString()
  // Decision 8: at most 32 characters of [a-z0-9_-] (a bounded, label-safe name, never free text).
  @Matches(PURPOSE_PATTERN, { message: 'purpose must be 1-32 lowercase letters, digits, _ or -' })
  purpose?: string;

  @ApiPropertyOptional({ description: 'ISO 3166-1 alpha-2 country for national formats', example: 'GH' })
  @IsOptional()
  @IsISO31661Alpha2()
  defaultCountry?: string;

  @ApiPropertyOptional({ description: "The end user's IP (keys the per-IP limits)", example: '203.0.113.9' })
  @IsOptional()
  @IsIP()
  clientIp?: string;
}
