import type { Kysely } from 'kysely';
import type { Parameter } from './delivery-contract.js';
import type { DB } from './schema.js';

/** Store parameters (docs/parameters.md#parameters-api); looked up by id or by name. */
export class SqlParameters {
  constructor(private readonly db: Kysely<DB>) {}

  async listParameters(storeId: string): Promise<Parameter[]> {
    return this.db
      .selectFrom('parameters')
      .selectAll()
      .where('store_id', '=', storeId)
      .orderBy('name')
      .execute();
  }

  async getParameter(storeId: string, idOrName: string): Promise<Parameter | undefined> {
    return this.db
      .selectFrom('parameters')
      .selectAll()
      .where('store_id', '=', storeId)
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
  }

  async putParameter(p: Parameter): Promise<Parameter> {
    await this.db
      .insertInto('parameters')
      .values(p)
      .onConflict((oc) =>
        oc
          .columns(['store_id', 'name'])
          .doUpdateSet({ value: p.value, data_type: p.data_type, updated_at: p.updated_at }),
      )
      .execute();
    return (await this.getParameter(p.store_id, p.name))!;
  }

  async deleteParameter(storeId: string, idOrName: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('parameters')
      .where('store_id', '=', storeId)
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
