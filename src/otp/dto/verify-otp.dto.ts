import {
  IsIP,
  IsISO31661Alpha2,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

export class VerifyOtpDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  phone!: string;

  /** The digits the user typed. */
  @IsString()
  @Matches(/^\d{1,12}$/, { message: 'code must be 1-12 digits' })
  code!: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'purpose must be 1-64 letters, digits or _ . : -' })
  purpose?: string;

  @IsOptional()
  @IsISO31661Alpha2()
  defaultCountry?: string;

  @IsOptional()
  @IsIP()
  clientIp?: string;
}
