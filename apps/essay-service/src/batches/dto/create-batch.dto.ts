import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { CreateEssayDto } from '../../essays/dto/create-essay.dto.js';

/** The most essays one batch may hold. */
export const MAX_BATCH_ESSAYS = 500;

/** The body of `POST /batches`. */
export class CreateBatchDto {
  /** 1 to 500 essays, each validated as `POST /essays` validates one. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ESSAYS)
  @ValidateNested({ each: true })
  @Type(() => CreateEssayDto)
  essays!: CreateEssayDto[];
}
