import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EssayServiceConfig } from '../essay-service.config.js';
import { databaseOptionsFor } from './database.options.js';
import { SqliteJournal } from './sqlite-journal.js';

/** Closes the embedded database's journal once the last write is on disk. */
@Injectable()
class EmbeddedJournalCloser implements OnApplicationShutdown {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    await SqliteJournal.of(this.dataSource)?.close();
  }
}

/** The service's database, as DATABASE_URL names it: the embedded SQLite or PostgreSQL. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [EssayServiceConfig],
      useFactory: (config: EssayServiceConfig) => databaseOptionsFor(config),
    }),
  ],
  providers: [EmbeddedJournalCloser],
})
export class DatabaseModule {}
